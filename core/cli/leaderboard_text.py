"""The leaderboard's text table from plain records, laid out as pandas' ``to_string(index=False)``; no pandas."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["render_records", "text_table"]

_ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _pct(v: object) -> str:
    return "—" if _missing(v) else f"{100 * float(v):.2f}"  # type: ignore[arg-type]


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def text_table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """``pandas.DataFrame(rows, columns=columns).to_string(index=False)`` for str and int cells.

    As pandas lays it out: every cell right-aligned to its column's width, columns one space apart;
    a column of integers only is numeric, and its header gets a leading space (room for a sign);
    tabs and line breaks in text are shown escaped.
    """
    cols = []
    for j, name in enumerate(columns):
        values = [row[j] for row in rows]
        numeric = bool(values) and all(_is_int(v) for v in values)
        cells = [str(v) if _is_int(v) else str(v).translate(_ESCAPES) for v in values]
        header = f" {name}" if numeric else name
        width = max([len(header), *map(len, cells)])
        cols.append([header.rjust(width), *(c.rjust(width) for c in cells)])
    return "\n".join(" ".join(line) for line in zip(*cols, strict=True))


def _by_win_rate(block: list[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """Best win rate first (ties keep their order), undefined win rates last."""
    defined = [r for r in block if not _missing(r["win_rate"])]
    undefined = [r for r in block if _missing(r["win_rate"])]
    return sorted(defined, key=lambda r: -float(r["win_rate"])) + undefined  # type: ignore[arg-type]


def _cells(r: Mapping[str, object], bca: bool) -> list[object]:
    n_len = r["avg_length"]
    return [
        r["generator_2"], _pct(r["win_rate"]), _pct(r["standard_error"]),
        f"{_pct(r['wilson_low'])}–{_pct(r['wilson_high'])}",
        *([f"{_pct(r['bca_low'])}–{_pct(r['bca_high'])}"] if bca else []),
        _pct(r["length_controlled_winrate"]), _pct(r["lc_standard_error"]), _pct(r["discrete_win_rate"]),
        f"{r['n_wins']}/{r['n_wins_base']}/{r['n_draws']}", int(r["n_total"]),  # type: ignore[call-overload]
        "—" if _missing(n_len) else int(n_len),  # type: ignore[call-overload]
    ]  # fmt: skip


def render_records(records: Sequence[Mapping[str, object]], bca: bool = True) -> str:
    """Human-readable blocks per (annotator, reference), percent with intervals and notes.

    Parameters
    ----------
    records : sequence of mapping
        Leaderboard rows with the columns of ``tiebreak.core.metrics.board_rows.COLUMNS`` (fractions;
        NaN or None where undefined).
    bca : bool
        Show the BCa column (False when it was not computed).
    """
    header = ["model", "win_rate", "± SE", "Wilson 95%", *(["BCa 95%"] if bca else []), "LC", "LC SE",
              "discrete", "W/L/D", "n", "avg_len"]  # fmt: skip
    panels: dict[tuple[str, str], list[Mapping[str, object]]] = {}
    for r in records:
        panels.setdefault((str(r["generator_1"]), str(r["annotator"])), []).append(r)
    lines = []
    for (ref, group), block in sorted(panels.items()):
        lines.append(f"annotator {group} vs reference {ref}")
        block = _by_win_rate(block)
        lines.append(text_table(header, [_cells(r, bca) for r in block]))
        dropped = sum(int(r["n_dropped"]) for r in block)  # type: ignore[call-overload]
        lines.append(f"rows dropped (unparsed/null preference): {dropped}")
        lines.extend(f"  note {r['generator_2']}: {r['note']}" for r in block if r["note"])
        lines.append("")
    return "\n".join(lines).rstrip()
