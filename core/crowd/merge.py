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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.events import (
    EVENT_FIELDS,
    PackEvents,
    live_rows,
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
    """Merge packs or events files into ``store``; never raises for a bad file (it is reported).

    Each file is its own transaction; the write-ahead log is copied into the database once after
    the last file (SQLite's auto-checkpoint would copy it after every file's commit).
    """
    with _one_checkpoint(store):
        return _merge_all(store, paths)


@contextmanager
def _one_checkpoint(store: Store) -> Iterator[None]:
    """Suspend the connection's auto-checkpoint inside the block; checkpoint once at its end."""
    auto = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        store.conn.execute(f"PRAGMA wal_autocheckpoint = {int(auto)}")
        if auto and store.path is not None:
            store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


_Ahead = dict[int, "Future[PackEvents] | tuple[str, FileResult]"]


def _merge_all(store: Store, paths: Iterable[str | Path]) -> MergeReport:
    report, todo = MergeReport(), list(paths)
    with ThreadPoolExecutor(1, thread_name_prefix="tiebreak-merge-read") as reader:
        ahead: _Ahead = {}
        for i, path in enumerate(todo):
            known = ahead.pop(i, None)
            if isinstance(known, tuple) and report.files and report.files[-1].n_new:
                known = None  # found merged before the previous file added events: look again
            then = partial(_read_ahead, store, todo, i + 1, reader, ahead)
            report.files.append(_merge_path(store, path, known, then))
    return report


def _read_ahead(store: Store, todo: list[str | Path], i: int, reader: ThreadPoolExecutor, ahead: _Ahead) -> None:
    """Look at file ``i`` while the current one is merged: merged already, or start reading its events."""
    if i < len(todo):
        probe = FileResult(str(todo[i]), ok=False)
        uuid = _nothing_new(store, todo[i], probe)
        ahead[i] = (uuid, probe) if uuid is not None else reader.submit(read_events, todo[i])


def _merge_path(store: Store, path: str | Path, known: Future[PackEvents] | tuple[str, FileResult] | None,
                next_read: Callable[[], None]) -> FileResult:  # fmt: skip
    """Merge one file in its own transaction; a failure is reported.

    ``known``: what a look ahead found while the previous file was merged (the events read, or
    the pack found merged already while nothing has been added since).
    """
    result, uuid = FileResult(str(path), ok=False), None
    try:
        if isinstance(known, tuple):
            uuid, result = known
        else:
            uuid = _nothing_new(store, path, result)
        next_read()
        if uuid is not None:
            with store.transaction() as tx:
                tx.execute("UPDATE crowd_packs SET last_merged_at = ? WHERE uuid = ?", (utcnow(), uuid))
                _log(tx, None, result, "ok", "nothing new")
            return result
        data = known.result() if isinstance(known, Future) else read_events(path)
        result.round, result.annotator, result.n_events = data.info.round, data.info.annotator, len(data.rows)
        with store.transaction() as tx:
            result.n_new, result.n_changed = _merge_one(tx, data)
            _log(tx, data, result, "ok", "")
        result.ok = True
    except (TiebreakError, sqlite3.Error, OSError, ValueError, TypeError) as exc:
        result.message = str(exc) if isinstance(exc, TiebreakError) else f"{path}: {type(exc).__name__}: {exc}"
        _log_failure(store, result)
    return result


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
    new = [r for r in data.rows if r[_UUID] not in seen] if seen else data.rows
    n_before = conn.execute(
        "SELECT count(*) FROM crowd_events WHERE round_id = ? AND annotator_id = ?", (round_id, annotator_id)
    ).fetchone()[0]  # fmt: skip
    now = utcnow()
    if new:
        # in key order: WITHOUT ROWID tables are b-trees on the (random) uuid, appending is cheaper
        tx.executemany(
            f"INSERT OR IGNORE INTO crowd_events (round_id, pack_uuid, annotator_id, merged_at, {', '.join(EVENT_FIELDS)})"
            f" VALUES (?, ?, ?, ?, {', '.join('?' * len(EVENT_FIELDS))})",
            sorted(((round_id, info.pack_uuid, annotator_id, now, r[0] or 0, *r[1:]) for r in new), key=itemgetter(5)),
        )  # fmt: skip
    tx.execute("UPDATE crowd_packs SET last_merged_at = ? WHERE uuid = ?", (now, info.pack_uuid))
    kinds = {r[_KIND] for r in new}
    changed = 0
    if kinds & set(_LABEL_KINDS):
        # A worker's first merge has all its events in memory; later ones read them back.
        if n_before:
            rows = conn.execute(
                f"SELECT {', '.join(EVENT_FIELDS)} FROM crowd_events WHERE round_id = ? AND annotator_id = ?"
                f" AND kind IN ({', '.join('?' * len(_LABEL_KINDS))})", (round_id, annotator_id, *_LABEL_KINDS),
            ).fetchall()  # fmt: skip
        else:
            rows = [r for r in new if r[_KIND] in _LABEL_KINDS]
        changed = _sync_labels(tx, round_id, info.round, annotator_id, rows)
    if kinds & {"flag", "retraction", "redo"}:
        _sync_flags(tx, round_id, annotator_id)
    return len(new), changed


_UUID, _KIND = EVENT_FIELDS.index("uuid"), EVENT_FIELDS.index("kind")
_LABEL_KINDS = ("label", "retraction", "redo")


def _events(conn: sqlite3.Connection, round_id: int, annotator_id: int, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    cols = ("uuid", "kind", "item_key", "choice", "swapped", "shown_at", "submitted_at", "seconds", "note",
            "refers_to", "at", "seq", "local_id")  # fmt: skip
    cur = conn.execute(
        f"SELECT {', '.join(cols)} FROM crowd_events WHERE round_id = ? AND annotator_id = ?"
        f" AND kind IN ({', '.join('?' * len(kinds))})", (round_id, annotator_id, *kinds),
    )  # fmt: skip
    return [{**dict(zip(cols, r, strict=True)), "annotator": annotator_id} for r in cur]


def _sync_labels(tx: Any, round_id: int, round_name: str, annotator_id: int, rows: list[tuple[Any, ...]]) -> int:
    """Make one worker's winning labels (``crowd_labels``) and annotations follow its events.

    ``rows`` are all its label, retraction and redo events (:data:`EVENT_FIELDS` tuples); the
    winners are decided by :func:`events.live_rows`. Returns the annotation rows inserted or retracted.
    """
    winners = {key: row[_UUID] for key, row in live_rows(rows).items()}
    current = {r[0]: (r[1], r[2]) for r in tx.conn.execute(
        "SELECT item_key, uuid, annotation_id FROM crowd_labels WHERE round_id = ? AND annotator_id = ?",
        (round_id, annotator_id),
    )}  # fmt: skip
    retract, changed, gone = [], [], []
    for key in current.keys() | winners.keys():
        win, cur = winners.get(key), current.get(key)
        if cur is not None and win is not None and cur[0] == win:
            continue
        if cur is not None and cur[1] is not None:
            retract.append(cur[1])  # replaced or withdrawn: retracted, never deleted (the history stays)
        if win is not None:
            changed.append(key)
        elif cur is not None:
            gone.append(key)
    now = utcnow()
    tx.executemany("UPDATE annotations SET retracted_at = ? WHERE id = ?", [(now, a) for a in retract])
    tx.executemany("DELETE FROM crowd_labels WHERE round_id = ? AND annotator_id = ? AND item_key = ?",
                   [(round_id, annotator_id, k) for k in gone])  # fmt: skip
    if not changed:
        return len(retract)
    return len(retract) + _write_winners(tx, round_id, round_name, annotator_id, sorted((k, winners[k]) for k in changed))


def _write_winners(tx: Any, round_id: int, round_name: str, annotator_id: int, changed: list[tuple[str, str]]) -> int:
    """New annotations and crowd_labels rows for the changed winners ((item key, event uuid) pairs).

    A temporary table carries them in event order (the stored events are a b-tree on the uuid:
    reading them in that order is sequential), with the ids their annotations take (ascending,
    above every existing id); SQL builds the rows from the stored events. Returns the annotations inserted.
    """
    conn = tx.conn
    items = dict(conn.execute(  # checks (repeats, identical outputs) are not annotations: not among these
        "SELECT item_key, comparison_id FROM crowd_items WHERE round_id = ? AND kind IN ('item', 'gold')"
        " AND item_key IN (SELECT value FROM json_each(?))", (round_id, json.dumps([k for k, _ in changed])),
    ).fetchall())  # fmt: skip
    base = conn.execute("SELECT coalesce(max(id), 0) FROM annotations").fetchone()[0]
    table, n_new = [], 0
    for key, uuid in sorted(changed, key=itemgetter(1)):
        cid = items.get(key)
        if cid is not None:
            n_new += 1
        table.append((key, uuid, None if cid is None else base + n_new, cid))
    tx.execute("DROP TABLE IF EXISTS temp.crowd_merge_winners")
    tx.execute("CREATE TEMP TABLE crowd_merge_winners (item_key TEXT, uuid TEXT, annotation_id INTEGER, comparison_id INTEGER)")
    tx.executemany("INSERT INTO temp.crowd_merge_winners VALUES (?, ?, ?, ?)", table)
    session_id = tx.start_session(annotator_id, "crowd", {"round": round_name, "merge": utcnow()})
    params = {"r": round_id, "a": annotator_id, "session": session_id, "round_json": json.dumps(round_name)}
    _insert_annotations(tx, params, base, n_new)
    tx.execute("INSERT OR REPLACE INTO crowd_labels (round_id, annotator_id, item_key, uuid, annotation_id)"
               " SELECT :r, :a, item_key, uuid, annotation_id FROM temp.crowd_merge_winners ORDER BY item_key", params)  # fmt: skip
    tx.execute("DROP TABLE temp.crowd_merge_winners")
    return n_new


def _pref_values() -> str:
    """PREFERENCE as an SQL VALUES list of (choice, swapped, preference)."""
    return ", ".join(f"({_sql_literal(c)}, {int(sw)}, {p!r})" for (c, sw), p in PREFERENCE.items() if p is not None)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# A winner's annotation row: canonical preference from the shown choice and side (PREFERENCE),
# extra = {"crowd_event": uuid, "round": name} written as json.dumps(sort_keys=True) writes it.
_INSERT_ANNOTATIONS = f"""
    WITH pref(choice, swapped, p) AS (VALUES {_pref_values()}),
    w AS (SELECT w.rowid AS n, w.annotation_id, w.comparison_id, e.uuid, e.choice, e.shown_at, e.submitted_at,
                 e.seconds, nullif(e.note, '') AS note, e.at,
                 CASE WHEN coalesce(e.swapped, 0) IN (0, '') THEN 0 ELSE 1 END AS swapped
          FROM temp.crowd_merge_winners w JOIN crowd_events e ON e.uuid = w.uuid
          WHERE w.annotation_id IS NOT NULL)
    INSERT INTO annotations (id, comparison_id, annotator_id, preference, raw_choice, raw_preference,
        swapped, rationale, seconds, session_id, source, extra, shown_at, submitted_at, created_at)
    SELECT w.annotation_id, w.comparison_id, :a, p1.p, w.choice, p0.p, w.swapped, w.note, w.seconds,
        :session, 'label', '{{"crowd_event": ' || CASE WHEN w.uuid NOT GLOB '*[^0-9a-f-]*'
            THEN '"' || w.uuid || '"' ELSE tiebreak_json_dumps(w.uuid) END || ', "round": ' || :round_json || '}}',
        w.shown_at, w.submitted_at, w.at
    FROM w
    LEFT JOIN pref p1 ON p1.choice = w.choice AND p1.swapped = w.swapped
    LEFT JOIN pref p0 ON p0.choice = w.choice AND p0.swapped = 0
    ORDER BY w.n"""


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


def _insert_annotations(tx: Any, params: dict[str, Any], base: int, n: int) -> None:
    """Insert the ``n`` new annotation rows of the winners (ids above every existing id), keeping winrate_sums exact.

    Many rows: the per-row insert trigger is dropped for this insert and the sums are added once per
    (candidate, reference, group) by the same expressions; the trigger is re-created from its own
    stored SQL before the transaction ends, so no other writer ever sees the table without it.
    """
    tx.conn.create_function("tiebreak_json_dumps", 1, json.dumps, deterministic=True)
    row = None
    if n >= BULK_SUMS_MIN:
        row = tx.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'winrate_sums_insert'").fetchone()
    if row is None:  # few rows (or, not expected, no trigger): the per-row trigger keeps the sums
        tx.execute(_INSERT_ANNOTATIONS, params)
        return
    tx.execute("DROP TRIGGER winrate_sums_insert")
    tx.execute(_INSERT_ANNOTATIONS, params)
    tx.execute(_bulk_sums_sql(), (base + 1, base + n))
    tx.execute(row[0])


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
