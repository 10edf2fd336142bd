"""Export annotations as AlpacaEval annotations.json, cross-annotations JSON, CSV or JSONL.

Floats are written with ``repr`` precision (never rounded), so import -> export -> import gives
bit-identical preferences. Raw completions that were JSON values (dicts) in the source file
come back as JSON values; non-standard fields kept in ``extra`` are written back as columns
(JSON, JSONL) or as one ``extra`` JSON column (CSV).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from tiebreak.core.formats import sql
from tiebreak.core.formats.importer import group_kind
from tiebreak.core.formats.records import EMPTY_KEY, QUOTED_KEY, RAW_JSON_KEY
from tiebreak.core.formats.safe_write import check_target, write_safely
from tiebreak.core.store import Store, UnknownName
from tiebreak.core.text_safety import csv_cell

__all__ = ["EXPORT_FORMATS", "CROSS_COLUMNS", "export_annotations", "export_records"]

EXPORT_FORMATS = ("alpaca-eval", "cross-annotations", "csv", "jsonl")
CROSS_COLUMNS = ("instruction", "output_1", "output_2", "generator_1", "generator_2", "generator",
                 "annotator", "annotator_index", "preference", "time_per_example",
                 "price_per_example")  # fmt: skip
#: AlpacaEval 0.6.6's names for the judge's metadata in an annotations.json.
ALPACA_META = {"price_per_example": "preference_price_per_example",
               "time_per_example": "preference_time_per_example",
               "raw_completion": "preference_raw_completion"}  # fmt: skip
TABLE_COLUMNS = ("instruction", "output_1", "output_2", "generator_1", "generator_2", "dataset",
                 "annotator", "annotator_index", "annotator_kind", "preference", "price_per_example",
                 "time_per_example", "raw_completion", "rationale", "swapped")  # fmt: skip


def _index(row: dict[str, Any]) -> int | str | None:
    """annotator_index: a human's member (else its name), a judge's seed."""
    if row["annotator_kind"] == "human":
        member = row["member"]
        if member is None:
            member = row["annotator_name"] if row["annotator_name"] != row["annotator"] else None
        return int(member) if isinstance(member, str) and member.isdigit() else member
    return row["seed"]


def _extra(row: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    extra = json.loads(row["extra"]) if row["extra"] else {}
    raw_is_json = extra.pop(RAW_JSON_KEY, None) == "json"
    return extra, raw_is_json


def _flatten(rec: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add extra fields as columns; a name that clashes with a column gets an ``extra_`` prefix."""
    for key, value in extra.items():
        rec[f"extra_{key}" if key in rec or key in TABLE_COLUMNS else key] = value


def _raw_completion(row: dict[str, Any], raw_is_json: bool) -> Any:
    raw = row["raw_completion"]
    return json.loads(raw) if raw is not None and raw_is_json else raw


def alpaca_raw_completion(raw: str | None) -> Any:
    """AlpacaEval's shape of a stored raw completion: the API's choice object as a JSON object
    (a whole chat completion is reduced to ``choices[0]``), a JSON object or list as itself,
    anything else as the text."""
    if raw is None or not raw.lstrip().startswith(("{", "[")):
        return raw
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    if isinstance(value, dict) and isinstance(value.get("choices"), list) and value["choices"]:
        return value["choices"][0]
    return value


def _kind_needed(row: dict[str, Any]) -> bool:
    """True when the group name alone would not give back the annotator's kind."""
    return group_kind(row["annotator"]) != row["annotator_kind"]


def _alpaca_record(row: dict[str, Any], with_index: bool, extra_columns: bool) -> dict[str, Any]:
    """An AlpacaEval 0.6.6 annotation; Tiebreak's own fields only with ``extra_columns``."""
    extra, raw_is_json = _extra(row)
    rec: dict[str, Any] = {"instruction": row["instruction"], "output_1": row["output_1"],
                           "generator_1": row["generator_1"]}  # fmt: skip
    if row["dataset"] is not None:
        rec["dataset"] = row["dataset"]
    if raw_is_json or extra_columns:  # the round trip keeps the stored value exactly
        raw = _raw_completion(row, raw_is_json)
    else:
        raw = alpaca_raw_completion(row["raw_completion"])
    rec.update(output_2=row["output_2"], generator_2=row["generator_2"], annotator=row["annotator"],
               preference=row["preference"])  # fmt: skip
    rec[ALPACA_META["price_per_example"]] = row["price_per_example"]
    rec[ALPACA_META["time_per_example"]] = row["time_per_example"]
    rec[ALPACA_META["raw_completion"]] = raw
    if not extra_columns:
        return rec
    if with_index:
        rec["annotator_index"] = _index(row)
    if _kind_needed(row):
        rec["annotator_kind"] = row["annotator_kind"]
    if row["rationale"] is not None:
        rec["rationale"] = row["rationale"]
    if row["swapped"]:
        rec["swapped"] = True
    _flatten(rec, extra)
    return rec


def _cross_record(row: dict[str, Any]) -> dict[str, Any]:
    rec = {c: row.get(c) for c in CROSS_COLUMNS}
    rec["generator"] = row["generator_2"]  # alpaca_eval.analyze.Analyzer groups models by it
    rec["annotator_index"] = _index(row)
    if row["dataset"] is not None:
        rec["dataset"] = row["dataset"]
    if _kind_needed(row):
        rec["annotator_kind"] = row["annotator_kind"]
    return rec


def _table_record(row: dict[str, Any], flat_extra: bool) -> dict[str, Any]:
    extra, raw_is_json = _extra(row)
    rec = {c: row.get(c) for c in TABLE_COLUMNS}
    rec["annotator_index"] = _index(row)
    rec["swapped"] = int(row["swapped"])
    if flat_extra:
        rec["raw_completion"] = _raw_completion(row, raw_is_json)
        _flatten(rec, extra)
    else:  # CSV: raw completion as stored text; extras (and the JSON marker) in one column
        if raw_is_json:
            extra[RAW_JSON_KEY] = "json"
        empty = [f for f in ("dataset", "raw_completion", "rationale") if rec[f] == ""]
        if empty:  # CSV cannot tell '' from missing: say which are ''
            extra[EMPTY_KEY] = empty
        rec["extra"] = json.dumps(extra, sort_keys=True, ensure_ascii=False) if extra else ""
    return rec


def _guard_formulas(rec: dict[str, Any]) -> dict[str, Any]:
    """Prefix cells a spreadsheet would run (=, +, -, @, tab, CR) with ' and list them in
    ``extra`` so Tiebreak's importer takes the apostrophe off again (OWASP CSV injection)."""
    quoted = [k for k, v in rec.items() if k != "extra" and csv_cell(v) is not v]
    if not quoted:
        return rec
    out = {k: csv_cell(v) if k in quoted else v for k, v in rec.items()}
    extra = json.loads(rec["extra"]) if rec["extra"] else {}
    extra[QUOTED_KEY] = quoted
    out["extra"] = json.dumps(extra, sort_keys=True, ensure_ascii=False)
    return out


def _cross_order(records: list[dict[str, Any]], kinds: list[str]) -> list[dict[str, Any]]:
    """Cross-annotations in AlpacaEval's numbering: per group, per comparison (first appearance),
    in annotator_index order (numeric when every index is a number); a human group's unparsed
    labels last. ``alpaca_eval.analyze.Analyzer`` numbers a comparison's labels by row order;
    ``tiebreak.core.metrics.judge`` keeps the first parsed gold labels in annotator_index order
    and pairs a judge's labels by seed, so both select and pair the same labels."""
    indexes = [r["annotator_index"] for r in records]
    numeric = all(isinstance(i, int) or (isinstance(i, str) and i.lstrip("-").isdigit()) for i in indexes if i is not None)

    def slot(i: Any) -> Any:
        if i is None:
            return (1, 0) if numeric else (1, "")
        return (0, int(i)) if numeric else (0, str(i))

    first_group: dict[str, int] = {}
    first_comp: dict[tuple[str, ...], int] = {}
    for r in records:
        first_group.setdefault(r["annotator"], len(first_group))
        first_comp.setdefault((r["instruction"], r["output_1"], r["output_2"]), len(first_comp))
    order = sorted(range(len(records)), key=lambda i: (
        first_group[records[i]["annotator"]],
        first_comp[(records[i]["instruction"], records[i]["output_1"], records[i]["output_2"])],
        kinds[i] == "human" and records[i]["preference"] is None, slot(records[i]["annotator_index"])))  # fmt: skip
    return [records[i] for i in order]


def _check_names(store: Store, annotators: Sequence[str] | None, generators: Sequence[str] | None) -> None:
    groups = {g["group"] for g in store.groups()}
    for name in annotators or ():
        if name not in groups:
            raise UnknownName(f"unknown annotator group {name!r} (known: {', '.join(sorted(groups)) or 'none'})")
    gens = set(store.generators())
    for name in generators or ():
        if name not in gens:
            raise UnknownName(f"unknown generator {name!r} (known: {', '.join(sorted(gens)) or 'none'})")


def export_records(
    store: Store,
    fmt: str,
    annotators: Sequence[str] | None = None,
    generators: Sequence[str] | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
    extra_columns: bool = False,
) -> list[dict[str, Any]]:
    """The records ``export_annotations`` would write, as Python dicts.

    Parameters
    ----------
    store : Store
    fmt : {'alpaca-eval', 'cross-annotations', 'csv', 'jsonl'}
    annotators : sequence of str, optional
        Annotator group names to keep (all by default).
    generators : sequence of str, optional
        Keep comparisons where output_1 or output_2 comes from one of these generators.
    exclude : set of str
        Annotator names whose labels are left out (``--exclude``).
    extra_columns : bool
        ``alpaca-eval`` only: also write Tiebreak's own fields (annotator_index, annotator_kind,
        rationale, swapped and the source file's extra fields), so that a re-import gives back
        exactly the same rows. Without it the records have AlpacaEval 0.6.6's columns only
        (judge metadata as ``preference_price_per_example``, ``preference_time_per_example``,
        ``preference_raw_completion``; the raw completion as AlpacaEval stores it).

    Raises
    ------
    UnknownName
        A group or generator name the database does not hold.
    ValueError
        An unknown format.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
    _check_names(store, annotators, generators)
    rows = [r for r in sql.export_rows(store, annotators, generators) if r["annotator_name"] not in exclude]
    if fmt == "alpaca-eval":  # annotator_index only when some row needs it, then on every row
        with_index = any(_index(r) not in (None, 0) or r["member"] is not None for r in rows)
        return [_alpaca_record(r, with_index, extra_columns) for r in rows]
    if fmt == "cross-annotations":
        return _cross_order([_cross_record(r) for r in rows], [r["annotator_kind"] for r in rows])
    return [_table_record(r, flat_extra=fmt == "jsonl") for r in rows]


def export_annotations(
    store: Store,
    path: str | Path,
    fmt: str,
    annotators: Sequence[str] | None = None,
    generators: Sequence[str] | None = None,
    exclude: set[str] | frozenset[str] = frozenset(),
    *,
    force: bool = False,
    raw_csv: bool = False,
    extra_columns: bool = False,
) -> int:
    """Write live annotations to ``path`` and return the number of records written.

    See ``export_records`` for the parameters. JSON is a list of records (indent 2, ASCII
    escapes, like AlpacaEval's files); JSONL one record per line; CSV has a header row, and
    its cells that start with =, +, -, @, tab or CR get a leading ' so a spreadsheet shows
    them instead of running them (``raw_csv=True`` writes them as stored). The file is written
    by :func:`~tiebreak.core.formats.safe_write.write_safely`: never over the open database or
    any SQLite file, an existing file only with ``force``, nothing left on error.
    """
    check_target(path, force=force, protect=[store.path])  # refuse before reading anything
    records = export_records(store, fmt, annotators, generators, exclude, extra_columns)

    def write(fh: IO[str]) -> None:
        if fmt in ("alpaca-eval", "cross-annotations"):
            json.dump(records, fh, indent=2)
            fh.write("\n")
        elif fmt == "jsonl":
            for rec in records:
                fh.write(json.dumps(rec) + "\n")
        else:
            writer = csv.DictWriter(fh, fieldnames=[*TABLE_COLUMNS, "extra"])
            writer.writeheader()
            writer.writerows(records if raw_csv else map(_guard_formulas, records))

    write_safely(path, write, force=force, protect=[store.path])
    return len(records)
