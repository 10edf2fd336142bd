"""Bulk SQL for imports (inside the import's unit of work ``tx``) and the export's read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tiebreak.core.store import Store, Transaction, utcnow

CHUNK = 500  # bound parameters per IN (...) query


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _select_in(tx: Transaction, sql: str, keys: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (with one ``{marks}`` placeholder) for every chunk of ``keys``."""
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks(keys):
        rows.extend(tx.execute(sql.format(marks=", ".join("?" * len(chunk))), chunk))
    return rows


def text_ids(tx: Transaction, bodies: dict[str, str]) -> tuple[dict[str, int], int]:
    """Ids of texts keyed by sha1 (``bodies``: sha1 -> body), inserting the missing ones."""
    keys = list(bodies)
    found = dict(_select_in(tx, "SELECT sha1, id FROM texts WHERE sha1 IN ({marks})", keys))
    missing = [k for k in keys if k not in found]
    tx.executemany(
        "INSERT INTO texts (sha1, body, length) VALUES (?, ?, ?)",
        ((k, bodies[k], len(bodies[k])) for k in missing),
    )
    if missing:
        found.update(_select_in(tx, "SELECT sha1, id FROM texts WHERE sha1 IN ({marks})", missing))
    return found, len(missing)


def instruction_ids(tx: Transaction, wanted: dict[int, tuple[str | None, int]]) -> tuple[dict[int, int], int]:
    """Instruction ids keyed by text id (``wanted``: text_id -> (dataset, ordinal)).

    New instructions get the dataset and ordinal given; existing ones keep theirs, except
    that a missing dataset is filled in.
    """
    keys = list(wanted)
    sql = "SELECT text_id, id, dataset FROM instructions WHERE text_id IN ({marks})"
    rows = _select_in(tx, sql, keys)
    found = {t: i for t, i, _ in rows}
    fill = [(wanted[t][0], i) for t, i, d in rows if d is None and wanted[t][0] is not None]
    tx.executemany("UPDATE instructions SET dataset = ? WHERE id = ?", fill)
    missing = [k for k in keys if k not in found]
    tx.executemany(
        "INSERT INTO instructions (text_id, dataset, ordinal) VALUES (?, ?, ?)",
        ((k, *wanted[k]) for k in missing),
    )
    if missing:
        found.update((t, i) for t, i, _ in _select_in(tx, sql, missing))
    return found, len(missing)


OutputKey = tuple[int, str, int]  # (instruction_id, generator, text_id)


def output_ids(tx: Transaction, keys: Iterable[OutputKey]) -> tuple[dict[OutputKey, int], int]:
    """Output ids keyed by (instruction_id, generator, text_id), inserting the missing ones."""
    keys = list(dict.fromkeys(keys))
    sql = "SELECT instruction_id, generator, text_id, id FROM outputs WHERE text_id IN ({marks})"
    text_keys = list({k[2] for k in keys})
    found = {(i, g, t): o for i, g, t, o in _select_in(tx, sql, text_keys)}
    missing = [k for k in keys if k not in found]
    tx.executemany(
        "INSERT INTO outputs (instruction_id, generator, text_id) VALUES (?, ?, ?)", missing
    )
    if missing:
        again = list({k[2] for k in missing})
        found.update(((i, g, t), o) for i, g, t, o in _select_in(tx, sql, again))
    return found, len(missing)


def comparison_ids(
    tx: Transaction, keys: Iterable[tuple[int, int, int]]
) -> tuple[dict[tuple[int, int], int], int]:
    """Comparison ids keyed by (output_1_id, output_2_id); ``keys`` are (instruction, o1, o2)."""
    keys = list(dict.fromkeys(keys))
    sql = "SELECT output_1_id, output_2_id, id FROM comparisons WHERE output_2_id IN ({marks})"
    found = {(a, b): c for a, b, c in _select_in(tx, sql, list({k[2] for k in keys}))}
    missing = [k for k in keys if (k[1], k[2]) not in found]
    tx.executemany(
        "INSERT INTO comparisons (instruction_id, output_1_id, output_2_id) VALUES (?, ?, ?)", missing
    )
    if missing:
        again = list({k[2] for k in missing})
        found.update(((a, b), c) for a, b, c in _select_in(tx, sql, again))
    return found, len(missing)


def annotator_kinds(tx: Transaction) -> dict[str, str]:
    """Kind ('human' / 'judge') of every existing annotator group."""
    return dict(tx.execute("SELECT group_name, kind FROM annotators GROUP BY group_name"))


def resolve_annotator(tx: Transaction, group: str, kind: str, member: str | None) -> tuple[int, bool]:
    """Annotator id for a (group, member) pair, creating it when absent; True when created.

    A judge is the annotator named ``group``; a human worker is the annotator of that group
    with that member (as created by the app), else the one named ``group/member``.
    """
    if kind == "human" and member is not None:
        row = tx.execute(
            "SELECT id FROM annotators WHERE group_name = ? AND member = ? ORDER BY id LIMIT 1",
            (group, member),
        ).fetchone()
        name = f"{group}/{member}"
    else:
        row, name = None, group
    if row is None:
        row = tx.execute("SELECT id FROM annotators WHERE name = ?", (name,)).fetchone()
    if row is not None:
        return int(row[0]), False
    return tx.annotator_id(name, kind, group=group, member=member if kind == "human" else None), True


AnnotationKey = tuple[int, int, int]  # (comparison_id, annotator_id, seed)


def existing_preferences(tx: Transaction, comparison_ids: Sequence[int]) -> dict[AnnotationKey, set[float | None]]:
    """Preferences already stored per (comparison, annotator, seed): imported rows (live or
    retracted) and live rows of any other source."""
    sql = (
        "SELECT comparison_id, annotator_id, seed, preference FROM annotations"
        " WHERE comparison_id IN ({marks}) AND (source = 'import' OR retracted_at IS NULL)"
    )
    out: dict[AnnotationKey, set[float | None]] = {}
    for c, a, s, p in _select_in(tx, sql, list(comparison_ids)):
        out.setdefault((c, a, s), set()).add(p)
    return out


def existing_annotations(
    tx: Transaction, comparison_ids: Sequence[int]
) -> dict[AnnotationKey, list[tuple[float | None, int | None]]]:
    """Like ``existing_preferences`` with the import that stored each preference (None for
    other sources), so a streamed import tells its own earlier rows from older ones."""
    sql = (
        "SELECT comparison_id, annotator_id, seed, preference, import_id FROM annotations"
        " WHERE comparison_id IN ({marks}) AND (source = 'import' OR retracted_at IS NULL)"
    )
    out: dict[AnnotationKey, list[tuple[float | None, int | None]]] = {}
    for c, a, s, p, i in _select_in(tx, sql, list(comparison_ids)):
        out.setdefault((c, a, s), []).append((p, i))
    return out


ANNOTATION_COLUMNS = (
    "comparison_id", "annotator_id", "preference", "raw_preference", "swapped", "rationale",
    "raw_completion", "price", "seconds", "seed", "import_id", "source", "extra", "created_at",
)  # fmt: skip


def insert_annotations(tx: Transaction, rows: list[tuple[Any, ...]]) -> int:
    """Insert annotation rows; each row is (comparison_id, annotator_id, preference,
    raw_preference, swapped, rationale, raw_completion, price, seconds, seed, import_id, extra).
    Source 'import' and created_at are added. Returns the number of rows."""
    now = utcnow()
    cols = ", ".join(ANNOTATION_COLUMNS)
    tx.executemany(
        f"INSERT INTO annotations ({cols}) VALUES ({', '.join('?' * len(ANNOTATION_COLUMNS))})",
        (r[:11] + ("import", r[11], now) for r in rows),
    )
    return len(rows)


def previous_import(tx: Transaction, sha256: str, fmt: str) -> int | None:
    """Id of an earlier import of identical bytes in the same format, if any."""
    row = tx.execute(
        "SELECT id FROM imports WHERE sha256 = ? AND format = ? ORDER BY id LIMIT 1", (sha256, fmt)
    ).fetchone()
    return None if row is None else int(row[0])


def start_import(tx: Transaction, path: str, sha256: str, fmt: str, n_records: int) -> int:
    """Insert the ``imports`` row (n_added filled in by ``finish_import``)."""
    cur = tx.execute(
        "INSERT INTO imports (path, sha256, format, n_records, n_added, imported_at)"
        " VALUES (?, ?, ?, ?, 0, ?)",
        (path, sha256, fmt, n_records, utcnow()),
    )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def finish_import(tx: Transaction, import_id: int, n_added: int, n_records: int | None = None) -> None:
    """Record how many records of an import added something new (and, for a streamed file,
    how many it held: known only at its end)."""
    if n_records is None:
        tx.execute("UPDATE imports SET n_added = ? WHERE id = ?", (n_added, import_id))
    else:
        tx.execute("UPDATE imports SET n_added = ?, n_records = ? WHERE id = ?", (n_added, n_records, import_id))


def dumps_extra(extra: dict[str, Any] | None) -> str | None:
    """JSON text of an annotation's ``extra`` (sorted keys; ASCII escapes, so any string fits)."""
    return None if not extra else json.dumps(extra, sort_keys=True)


EXPORT_COLUMNS = (
    "instruction", "output_1", "output_2", "generator_1", "generator_2", "dataset", "annotator",
    "annotator_name", "annotator_kind", "member", "seed", "preference", "price_per_example",
    "time_per_example", "raw_completion", "rationale", "swapped", "extra",
)  # fmt: skip


def export_rows(
    store: Store, groups: Sequence[str] | None = None, generators: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Live annotations with their texts (EXPORT_COLUMNS), oldest first.

    ``groups`` filters annotator groups; ``generators`` keeps comparisons where either
    output's generator is one of them.
    """
    where = ["a.retracted_at IS NULL"]
    args: list[str] = []
    if groups:
        where.append(f"an.group_name IN ({', '.join('?' * len(groups))})")
        args.extend(groups)
    if generators:
        marks = ", ".join("?" * len(generators))
        where.append(f"(o1.generator IN ({marks}) OR o2.generator IN ({marks}))")
        args.extend([*generators, *generators])
    cur = store.conn.execute(
        f"""SELECT ti.body, t1.body, t2.body, o1.generator, o2.generator, i.dataset,
                   an.group_name, an.name, an.kind, an.member, a.seed, a.preference, a.price,
                   a.seconds, a.raw_completion, a.rationale, a.swapped, a.extra
            FROM annotations a
            JOIN comparisons c ON c.id = a.comparison_id
            JOIN instructions i ON i.id = c.instruction_id JOIN texts ti ON ti.id = i.text_id
            JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
            JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
            JOIN annotators an ON an.id = a.annotator_id
            WHERE {" AND ".join(where)} ORDER BY a.id""",
        args,
    )
    return [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in cur]
