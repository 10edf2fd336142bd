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
CROSS_COLUMNS = ("instruction", "output_1", "output_2", "generator_1", "generator_2", "annotator",
                 "annotator_index", "preference", "time_per_example", "price_per_example")  # fmt: skip
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


def _kind_needed(row: dict[str, Any]) -> bool:
    """True when the group name alone would not give back the annotator's kind."""
    return group_kind(row["annotator"]) != row["annotator_kind"]


def _alpaca_record(row: dict[str, Any], with_index: bool) -> dict[str, Any]:
    extra, raw_is_json = _extra(row)
    rec: dict[str, Any] = {"instruction": row["instruction"], "output_1": row["output_1"],
                           "generator_1": row["generator_1"]}  # fmt: skip
    if row["dataset"] is not None:
        rec["dataset"] = row["dataset"]
    rec.update(output_2=row["output_2"], generator_2=row["generator_2"], annotator=row["annotator"],
               preference=row["preference"], price_per_example=row["price_per_example"],
               time_per_example=row["time_per_example"],
               raw_completion=_raw_completion(row, raw_is_json))  # fmt: skip
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
        return [_alpaca_record(r, with_index) for r in rows]
    if fmt == "cross-annotations":
        return [_cross_record(r) for r in rows]
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
    records = export_records(store, fmt, annotators, generators, exclude)

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
