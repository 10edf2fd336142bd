"""SQL of the labelling queue: what can be labelled, what is finished, skips and flags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tiebreak.core.store import Store, Transaction, UnknownName, utcnow

__all__ = [
    "datasets", "references", "candidates", "human_annotators", "queue_comparisons",
    "finished_comparisons", "skipped_comparisons", "add_skip", "set_skip_retracted",
    "add_flag", "set_flag_retracted", "end_session", "human_label_rows", "judge_label_rows",
]  # fmt: skip


def datasets(store: Store) -> list[str]:
    """Distinct dataset names of instructions that are part of a comparison."""
    rows = store.conn.execute(
        "SELECT DISTINCT i.dataset FROM comparisons c JOIN instructions i ON i.id = c.instruction_id"
        " WHERE i.dataset IS NOT NULL ORDER BY 1"
    )
    return [r[0] for r in rows]


def references(store: Store) -> list[str]:
    """Generators that appear as output_1 (the reference) of some comparison, most used first."""
    rows = store.conn.execute(
        "SELECT o.generator, count(*) n FROM comparisons c JOIN outputs o ON o.id = c.output_1_id"
        " GROUP BY o.generator ORDER BY n DESC, o.generator"
    )
    return [r[0] for r in rows]


def candidates(store: Store, reference: str) -> list[str]:
    """Generators compared against ``reference`` (as output_2)."""
    rows = store.conn.execute(
        "SELECT DISTINCT o2.generator FROM comparisons c"
        " JOIN outputs o1 ON o1.id = c.output_1_id JOIN outputs o2 ON o2.id = c.output_2_id"
        " WHERE o1.generator = ? ORDER BY 1",
        (reference,),
    )
    return [r[0] for r in rows]


def human_annotators(store: Store) -> list[str]:
    """Names of the human annotators, alphabetically."""
    rows = store.conn.execute("SELECT name FROM annotators WHERE kind = 'human' ORDER BY name")
    return [r[0] for r in rows]


def queue_comparisons(
    store: Store, reference: str, candidate_names: Iterable[str], dataset: str | None = None
) -> list[int]:
    """Comparisons of ``reference`` (output_1) against any of ``candidate_names`` (output_2).

    Raises
    ------
    UnknownName
        When the reference or a candidate has no comparison in the database.
    """
    names = list(dict.fromkeys(candidate_names))
    if not names:
        raise UnknownName("queue: no candidate model chosen")
    known = set(candidates(store, reference))
    if not known:
        raise UnknownName(f"queue: reference {reference!r} has no comparisons in the database")
    missing = [n for n in names if n not in known]
    if missing:
        raise UnknownName(f"queue: no comparisons of {reference!r} against {', '.join(missing)}")
    sql = (
        "SELECT c.id FROM comparisons c JOIN instructions i ON i.id = c.instruction_id"
        " JOIN outputs o1 ON o1.id = c.output_1_id JOIN outputs o2 ON o2.id = c.output_2_id"
        f" WHERE o1.generator = ? AND o2.generator IN ({', '.join('?' * len(names))})"
    )
    args: list[Any] = [reference, *names]
    if dataset is not None:
        sql += " AND i.dataset = ?"
        args.append(dataset)
    return [r[0] for r in store.conn.execute(sql + " ORDER BY c.id", args)]


def finished_comparisons(
    store: Store, annotator_id: int, sources: Iterable[str] = ("label", "import")
) -> set[int]:
    """Comparisons with a live (not retracted) annotation by this annotator from ``sources``."""
    src = list(sources)
    rows = store.conn.execute(
        "SELECT DISTINCT comparison_id FROM annotations WHERE annotator_id = ?"
        f" AND retracted_at IS NULL AND source IN ({', '.join('?' * len(src))})",
        (annotator_id, *src),
    )
    return {r[0] for r in rows}


def skipped_comparisons(store: Store, annotator_id: int) -> list[int]:
    """Comparisons this annotator skipped (live skips), in the order they were skipped last."""
    rows = store.conn.execute(
        "SELECT comparison_id FROM skips WHERE annotator_id = ? AND retracted_at IS NULL"
        " GROUP BY comparison_id ORDER BY max(id)",
        (annotator_id,),
    )
    return [r[0] for r in rows]


def add_skip(
    tx: Transaction,
    *,
    comparison_id: int,
    annotator_id: int,
    session_id: int | None,
    swapped: bool,
    seconds: float | None,
    shown_at: str | None,
    submitted_at: str | None,
) -> int:
    """Record one skip (a deferral, not an answer) and return its id."""
    cur = tx.execute(
        "INSERT INTO skips (comparison_id, annotator_id, session_id, swapped, seconds, shown_at,"
        " submitted_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (comparison_id, annotator_id, session_id, int(swapped), seconds, shown_at, submitted_at,
         utcnow()),
    )  # fmt: skip
    return int(cur.lastrowid)  # type: ignore[arg-type]


def set_skip_retracted(tx: Transaction, skip_id: int, retracted: bool) -> None:
    """Retract (undo) or restore (redo) a skip; rows are never deleted."""
    tx.execute(
        "UPDATE skips SET retracted_at = ? WHERE id = ?", (utcnow() if retracted else None, skip_id)
    )


def add_flag(
    tx: Transaction,
    *,
    comparison_id: int,
    annotator_id: int | None,
    session_id: int | None,
    note: str | None = None,
) -> int:
    """Flag an item for the coordinator and return the flag id."""
    cur = tx.execute(
        "INSERT INTO flags (comparison_id, annotator_id, session_id, note, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (comparison_id, annotator_id, session_id, note, utcnow()),
    )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def set_flag_retracted(tx: Transaction, flag_id: int, retracted: bool) -> None:
    """Retract (undo) or restore (redo) a flag; rows are never deleted."""
    tx.execute(
        "UPDATE flags SET retracted_at = ? WHERE id = ?", (utcnow() if retracted else None, flag_id)
    )


def end_session(tx: Transaction, session_id: int) -> None:
    """Stamp the end time of a session."""
    tx.end_session(session_id)



_STATS_ROW_SQL = """
    SELECT a.id, a.comparison_id, o2.generator, an.group_name, an.kind, a.preference
    FROM annotations a JOIN annotators an ON an.id = a.annotator_id
    JOIN comparisons c ON c.id = a.comparison_id JOIN outputs o2 ON o2.id = c.output_2_id
"""
_STATS_KEYS = ("annotation_id", "comparison_id", "generator_2", "annotator", "annotator_kind", "preference")


def human_label_rows(store: Store, reference: str, candidate_names: Iterable[str]) -> list[dict[str, Any]]:
    """Live human labels on ``reference`` vs the candidates, as live-statistics rows."""
    names = list(candidate_names)
    if not names:
        return []
    sql = (
        _STATS_ROW_SQL + " JOIN outputs o1 ON o1.id = c.output_1_id"
        " WHERE a.retracted_at IS NULL AND an.kind = 'human' AND o1.generator = ?"
        f" AND o2.generator IN ({', '.join('?' * len(names))}) ORDER BY a.id"
    )
    return [dict(zip(_STATS_KEYS, r, strict=True)) for r in store.conn.execute(sql, (reference, *names))]


def judge_label_rows(store: Store, comparison_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Live judge verdicts on the given comparisons, as live-statistics rows."""
    ids = sorted(set(comparison_ids))
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql = (
            _STATS_ROW_SQL + " WHERE a.retracted_at IS NULL AND an.kind = 'judge'"
            f" AND a.comparison_id IN ({', '.join('?' * len(chunk))}) ORDER BY a.id"
        )
        rows += [dict(zip(_STATS_KEYS, r, strict=True)) for r in store.conn.execute(sql, chunk)]
    return rows
