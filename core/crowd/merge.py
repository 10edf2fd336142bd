"""Lossless, idempotent merge of pack events into the coordinator's database.

Each file is merged in its own transaction: unseen events (by uuid) are inserted, the rest are
ignored, so merging twice equals merging once. The latest live label per annotator and item
becomes an ordinary annotation (source ``label``, session kind ``crowd``, ``extra.crowd_event``);
a label it replaces is retracted, never deleted. A bad file is reported and changes nothing; the
other files are still merged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.events import (
    EVENT_FIELDS,
    PackEvents,
    live_labels,
    pack_summary,
    read_events,
)
from tiebreak.core.crowd.gold import PREFERENCE
from tiebreak.core.crowd.round import RoundError
from tiebreak.core.errors import TiebreakError
from tiebreak.core.store import Store, utcnow

__all__ = ["FileResult", "MergeReport", "merge_files"]


@dataclass
class FileResult:
    """What happened to one file: ok or error, events read, new events, labels changed."""

    path: str
    ok: bool
    n_events: int = 0
    n_new: int = 0
    n_changed: int = 0
    round: str | None = None
    annotator: str | None = None
    message: str = ""


@dataclass
class MergeReport:
    """Per-file results of one merge."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        """Files that could not be merged."""
        return sum(not f.ok for f in self.files)


def merge_files(store: Store, paths: Iterable[str | Path]) -> MergeReport:
    """Merge packs or events files into ``store``; never raises for a bad file (it is reported)."""
    report = MergeReport()
    for path in paths:
        result = FileResult(str(path), ok=False)
        try:
            uuid = _nothing_new(store, path, result)
            if uuid is not None:
                with store.transaction() as tx:
                    tx.execute("UPDATE crowd_packs SET last_merged_at = ? WHERE uuid = ?", (utcnow(), uuid))
                    _log(tx, None, result, "ok", "nothing new")
                report.files.append(result)
                continue
            data = read_events(path)
            result.round, result.annotator, result.n_events = data.info.round, data.info.annotator, len(data.events)
            with store.transaction() as tx:
                result.n_new, result.n_changed = _merge_one(tx, data)
                _log(tx, data, result, "ok", "")
            result.ok = True
        except (TiebreakError, sqlite3.Error, OSError, ValueError, TypeError) as exc:
            result.message = str(exc) if isinstance(exc, TiebreakError) else f"{path}: {type(exc).__name__}: {exc}"
            _log_failure(store, result)
        report.files.append(result)
    return report


def _nothing_new(store: Store, path: str | Path, result: FileResult) -> str | None:
    """The pack uuid (and ``result`` filled in) when its events are all merged already: a cheap re-merge."""
    summary = pack_summary(path)
    if summary is None:
        return None
    info, n, last = summary
    stored = store.conn.execute(
        "SELECT count(*), coalesce(max(seq), 0) FROM crowd_events WHERE pack_uuid = ?", (info.pack_uuid,)
    ).fetchone()  # fmt: skip
    if (int(stored[0]), int(stored[1])) != (n, last) or n == 0:
        return None
    result.ok, result.round, result.annotator, result.n_events = True, info.round, info.annotator, n
    return info.pack_uuid


def _log(tx: Any, data: PackEvents | None, result: FileResult, status: str, message: str) -> None:
    round_id = None
    if result.round:
        row = tx.execute("SELECT id FROM crowd_rounds WHERE name = ?", (result.round,)).fetchone()
        round_id = row[0] if row else None
    tx.execute(
        "INSERT INTO crowd_merges (round_id, path, pack_uuid, n_events, n_new, status, message, merged_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (round_id, result.path, data.info.pack_uuid if data else None, result.n_events, result.n_new, status,
         message, utcnow()),
    )  # fmt: skip


def _log_failure(store: Store, result: FileResult) -> None:
    try:
        with store.transaction() as tx:
            _log(tx, None, result, "error", result.message)
    except sqlite3.Error:
        pass  # the failure is in the report either way


def _merge_one(tx: Any, data: PackEvents) -> tuple[int, int]:
    """Insert the unseen events of one pack and bring the annotations up to date."""
    info, conn = data.info, tx.conn
    row = conn.execute("SELECT id, name FROM crowd_rounds WHERE name = ?", (info.round,)).fetchone()
    if row is None:
        raise RoundError(f"{info.path}: round {info.round!r} is not in this database")
    round_id = row[0]
    worker = conn.execute(
        "SELECT w.annotator_id FROM crowd_workers w JOIN annotators a ON a.id = w.annotator_id"
        " WHERE w.round_id = ? AND a.name = ?", (round_id, info.annotator),
    ).fetchone()  # fmt: skip
    if worker is None:
        raise RoundError(f"{info.path}: annotator {info.annotator!r} has no assignment in round {info.round!r}")
    annotator_id = worker[0]
    seen = {r[0] for r in conn.execute("SELECT uuid FROM crowd_events WHERE pack_uuid = ?", (info.pack_uuid,))}
    new = [e for e in data.events if e["uuid"] not in seen]
    n_before = conn.execute(
        "SELECT count(*) FROM crowd_events WHERE round_id = ? AND annotator_id = ?", (round_id, annotator_id)
    ).fetchone()[0]  # fmt: skip
    now = utcnow()
    if new:
        cols = [c for c in EVENT_FIELDS if c != "seq"]
        get = itemgetter(*cols)
        tx.executemany(
            f"INSERT OR IGNORE INTO crowd_events (round_id, pack_uuid, annotator_id, seq, merged_at, {', '.join(cols)})"
            f" VALUES (?, ?, ?, ?, ?, {', '.join('?' * len(cols))})",
            # in key order: WITHOUT ROWID tables are b-trees on the (random) uuid, appending is cheaper
            sorted(((round_id, info.pack_uuid, annotator_id, e["seq"] or 0, now, *get(e)) for e in new),
                   key=itemgetter(5)),
        )  # fmt: skip
    tx.execute("UPDATE crowd_packs SET last_merged_at = ? WHERE uuid = ?", (now, info.pack_uuid))
    changed = 0
    if any(e["kind"] in ("label", "retraction", "redo") for e in new):
        # A worker's first merge holds all its events in memory; later ones read them back.
        if n_before:
            events = _events(conn, round_id, annotator_id, _LABEL_KINDS)
        else:
            events = [e for e in new if e["kind"] in _LABEL_KINDS]
            for e in events:  # read_events made these dicts for this merge alone
                e["annotator"] = annotator_id
        changed = _sync_labels(tx, round_id, info.round, annotator_id, events)
    if any(e["kind"] in ("flag", "retraction", "redo") for e in new):
        _sync_flags(tx, round_id, annotator_id)
    return len(new), changed


_LABEL_KINDS = ("label", "retraction", "redo")


def _events(conn: sqlite3.Connection, round_id: int, annotator_id: int, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    cols = ("uuid", "kind", "item_key", "choice", "swapped", "shown_at", "submitted_at", "seconds", "note",
            "refers_to", "at", "seq", "local_id")  # fmt: skip
    cur = conn.execute(
        f"SELECT {', '.join(cols)} FROM crowd_events WHERE round_id = ? AND annotator_id = ?"
        f" AND kind IN ({', '.join('?' * len(kinds))})", (round_id, annotator_id, *kinds),
    )  # fmt: skip
    return [{**dict(zip(cols, r, strict=True)), "annotator": annotator_id} for r in cur]


def _sync_labels(tx: Any, round_id: int, round_name: str, annotator_id: int, events: list[dict[str, Any]]) -> int:
    """Make one worker's winning labels (``crowd_labels``) and annotations follow its events.

    Returns the number of annotation rows inserted or retracted.
    """
    conn = tx.conn
    winners = {k[1]: ev for k, ev in live_labels(events).items()}
    items = dict(conn.execute(
        "SELECT item_key, comparison_id FROM crowd_items WHERE round_id = ? AND kind IN ('item', 'gold')", (round_id,)
    ).fetchall())  # fmt: skip
    current = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT item_key, uuid, annotation_id FROM crowd_labels WHERE round_id = ? AND annotator_id = ?",
        (round_id, annotator_id),
    )}  # fmt: skip
    retract, insert, gone = [], [], []
    for key in set(current) | set(winners):
        win, cur = winners.get(key), current.get(key)
        if cur is not None and win is not None and cur[0] == win["uuid"]:
            continue
        if cur is not None and cur[1] is not None:
            retract.append(cur[1])
        if win is not None:
            insert.append(win)
        elif cur is not None:
            gone.append(key)
    now = utcnow()
    tx.executemany("UPDATE annotations SET retracted_at = ? WHERE id = ?", [(now, a) for a in retract])
    tx.executemany("DELETE FROM crowd_labels WHERE round_id = ? AND annotator_id = ? AND item_key = ?",
                   [(round_id, annotator_id, k) for k in gone])  # fmt: skip
    rows, links = [], []
    next_id = (conn.execute("SELECT max(id) FROM annotations").fetchone()[0] or 0) + 1
    session_id = tx.start_session(annotator_id, "crowd", {"round": round_name, "merge": now}) if insert else None
    round_json = json.dumps(round_name)
    for ev in insert:
        ann_id = None
        if ev["item_key"] in items:  # checks (repeats, identical outputs) are not annotations
            ann_id, next_id = next_id, next_id + 1
            rows.append(_annotation_row(ann_id, items[ev["item_key"]], annotator_id, session_id, round_json, ev))
        links.append((round_id, annotator_id, ev["item_key"], ev["uuid"], ann_id))
    _insert_annotations(tx, rows)
    tx.executemany("INSERT OR REPLACE INTO crowd_labels (round_id, annotator_id, item_key, uuid, annotation_id)"
                   " VALUES (?, ?, ?, ?, ?)", sorted(links, key=itemgetter(2)))  # fmt: skip
    return len(retract) + len(rows)


_PREF = PREFERENCE
_INSERT_ANNOTATION = (
    "INSERT INTO annotations (id, comparison_id, annotator_id, preference, raw_choice, raw_preference,"
    " swapped, rationale, seconds, session_id, source, extra, shown_at, submitted_at, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'label', ?, ?, ?, ?)"
)
#: From this many new annotations on, the win-rate sums are added once per key instead of per row.
BULK_SUMS_MIN = 500
_SUM_COLS = ("n_total", "n_dropped", "sum_x_fixed", "sum_x_rest", "sum_x2_fixed", "sum_x2_rest",
             "n_wins", "n_wins_base", "n_draws")  # fmt: skip


def _bulk_sums_sql() -> str:
    """Add the contributions of annotations ``id BETWEEN ? AND ?`` to winrate_sums, once per key.

    Each row's contribution is the insert trigger's own expression (``_wr_values``: the same
    rounding of x and x^2 into an integer part and a remainder), summed per key: the integer
    columns equal the trigger's exactly, the REAL remainders up to the order of the additions.
    """
    from tiebreak.core.store.migrations import _wr_values

    cols = ", ".join(_SUM_COLS)
    sums = ", ".join(f"{'total' if c.endswith('_rest') else 'sum'}({c})" for c in _SUM_COLS)
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in _SUM_COLS)
    return f"""
        WITH v(generator_2, generator_1, annotator, {cols}) AS (
            SELECT o2.generator, o1.generator, an.group_name, {_wr_values("a", 1)}
            FROM annotations a JOIN comparisons c ON c.id = a.comparison_id
            JOIN outputs o1 ON o1.id = c.output_1_id JOIN outputs o2 ON o2.id = c.output_2_id
            JOIN annotators an ON an.id = a.annotator_id
            WHERE a.id BETWEEN ? AND ? AND a.retracted_at IS NULL)
        INSERT INTO winrate_sums (generator_2, generator_1, annotator, {cols})
        SELECT generator_2, generator_1, annotator, {sums} FROM v WHERE true
        GROUP BY generator_2, generator_1, annotator
        ON CONFLICT (generator_2, generator_1, annotator) DO UPDATE SET {updates}"""


def _insert_annotations(tx: Any, rows: list[tuple[Any, ...]]) -> None:
    """Insert new annotation rows (ids ascending, above every existing id) keeping winrate_sums exact.

    Many rows: the per-row insert trigger is dropped for this insert and the sums are added once per
    (candidate, reference, group) by the same expressions; the trigger is re-created from its own
    stored SQL before the transaction ends, so no other writer ever sees the table without it.
    """
    if len(rows) < BULK_SUMS_MIN:
        tx.executemany(_INSERT_ANNOTATION, rows)
        return
    row = tx.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'winrate_sums_insert'").fetchone()
    if row is None:  # not expected: fall back to the plain insert
        tx.executemany(_INSERT_ANNOTATION, rows)
        return
    tx.execute("DROP TRIGGER winrate_sums_insert")
    tx.executemany(_INSERT_ANNOTATION, rows)
    tx.execute(_bulk_sums_sql(), (rows[0][0], rows[-1][0]))
    tx.execute(row[0])


def _annotation_row(ann_id: int, cid: int, annotator_id: int, session_id: int | None, round_json: str,
                    ev: dict[str, Any]) -> tuple[Any, ...]:  # fmt: skip
    """An annotations row for a winning label event (canonical preference from the shown choice)."""
    swapped = bool(ev["swapped"])
    extra = f'{{"crowd_event": {json.dumps(ev["uuid"])}, "round": {round_json}}}'  # = json.dumps(sort_keys=True)
    return (ann_id, cid, annotator_id, _PREF.get((ev["choice"], swapped)), ev["choice"],
            _PREF.get((ev["choice"], False)), int(swapped), ev["note"] or None, ev["seconds"],
            session_id, extra, ev["shown_at"], ev["submitted_at"], ev["at"])  # fmt: skip


def _sync_flags(tx: Any, round_id: int, annotator_id: int) -> None:
    """Flags raised in a pack become rows of ``flags`` (retracted with their undo)."""
    conn = tx.conn
    events = _events(conn, round_id, annotator_id, ("flag", "retraction", "redo"))
    flags = {e["uuid"]: e for e in events if e["kind"] == "flag"}
    live = {uuid: True for uuid in flags}
    for ev in sorted((e for e in events if e["kind"] != "flag" and e["refers_to"] in flags), key=lambda e: (e["at"], e["seq"])):
        live[ev["refers_to"]] = ev["kind"] == "redo"
    cids = dict(conn.execute("SELECT item_key, comparison_id FROM crowd_items WHERE round_id = ?", (round_id,)).fetchall())
    now = utcnow()
    for uuid, ev in flags.items():
        cid = cids.get(ev["item_key"])
        if cid is None:
            continue
        if ev["local_id"] is None:
            cur = tx.execute(
                "INSERT INTO flags (comparison_id, annotator_id, note, created_at, retracted_at) VALUES (?, ?, ?, ?, ?)",
                (cid, annotator_id, ev["note"], ev["at"], None if live[uuid] else now),
            )
            tx.execute("UPDATE crowd_events SET local_id = ? WHERE uuid = ?", (cur.lastrowid, uuid))
        else:
            tx.execute(
                "UPDATE flags SET retracted_at = CASE WHEN ? THEN NULL ELSE coalesce(retracted_at, ?) END WHERE id = ?",
                (int(live[uuid]), now, ev["local_id"]),
            )
