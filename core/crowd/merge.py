"""Lossless, idempotent merge of pack events into the coordinator's database.

One merge is one transaction, each file a savepoint in it: unseen events (by uuid) are inserted,
the rest are ignored, so merging twice equals merging once. The latest live label per annotator and item
becomes an ordinary annotation (source ``label``, session kind ``crowd``, ``extra.crowd_event``);
a label it replaces is retracted, never deleted. A bad file is reported and changes nothing; the
other files are still merged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.attach import Attached, attached, copy_events
from tiebreak.core.crowd.events import (
    EVENT_FIELDS,
    PackEvents,
    live_rows,
    pack_summary,
    read_events,
)
from tiebreak.core.crowd.round import RoundError
from tiebreak.core.crowd.winners import write_winners
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

    The merge is one transaction and each file a savepoint in it: a file that fails is rolled
    back alone (and reported), the others stay; every page is written to the log once, not again
    by each file's commit. For the length of the merge the connection keeps more pages in memory
    (the events table is a b-tree on random uuids, touched all over) and checkpoints the
    write-ahead log once, at the end. A pack's events are copied by
    SQL from the file attached read-only (:mod:`.attach`; it stays attached, and so read-locked
    against a labeller writing to it, until the merge has committed); events files, and packs
    beyond the connection's attach slots, are inserted from the rows read.
    """
    with _merge_settings(store), attached(store) as files, store.transaction():
        return _merge_all(store, paths, _Shared(files))


@dataclass
class _Shared:
    """What the files of one merge share: the packs attached, each round's items that take annotations."""

    files: Attached
    items: dict[int, dict[str, int]] = field(default_factory=dict)

    def round_items(self, conn: sqlite3.Connection, round_id: int) -> dict[str, int]:
        """Item key -> comparison id of a round's items and gold items (read once per merge, which adds none)."""
        if round_id not in self.items:
            self.items[round_id] = dict(conn.execute(
                "SELECT item_key, comparison_id FROM crowd_items WHERE round_id = ? AND kind IN ('item', 'gold')",
                (round_id,),
            ).fetchall())  # fmt: skip
        return self.items[round_id]


@contextmanager
def _file(store: Store) -> Iterator[Any]:
    """One file's part of the merge: a savepoint, released when it succeeds, rolled back when it fails."""
    with store.transaction() as tx:  # joins the merge's transaction
        tx.execute("SAVEPOINT crowd_merge_file")
        try:
            yield tx
        except BaseException:
            if tx.conn.in_transaction:  # (an error that ended the whole transaction leaves no savepoint)
                tx.execute("ROLLBACK TO crowd_merge_file")
                tx.execute("RELEASE crowd_merge_file")
            store.forget_cache()
            raise
        tx.execute("RELEASE crowd_merge_file")


#: Page cache of the coordinator's connection during a merge (KiB; SQLite's default is 2,000).
MERGE_CACHE_KIB = 65_536


@contextmanager
def _merge_settings(store: Store) -> Iterator[None]:
    """A larger page cache and no auto-checkpoint inside the block; one checkpoint at its end."""
    auto = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    cache = store.conn.execute("PRAGMA cache_size").fetchone()[0]
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")
    store.conn.execute(f"PRAGMA cache_size = {-MERGE_CACHE_KIB}")
    try:
        yield
    finally:
        store.conn.execute(f"PRAGMA cache_size = {int(cache)}")
        store.conn.execute(f"PRAGMA wal_autocheckpoint = {int(auto)}")
        if auto and store.path is not None:
            store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


_Ahead = dict[int, "Future[_Prepared] | tuple[str, FileResult]"]


def _merge_all(store: Store, paths: Iterable[str | Path], shared: _Shared) -> MergeReport:
    report, todo = MergeReport(), list(paths)
    with ThreadPoolExecutor(1, thread_name_prefix="tiebreak-merge-read") as reader:
        ahead: _Ahead = {}
        for i, path in enumerate(todo):
            known = ahead.pop(i, None)
            if isinstance(known, tuple) and report.files and report.files[-1].n_new:
                known = None  # found merged before the previous file added events: look again
            then = partial(_read_ahead, store, todo, i + 1, reader, ahead)
            report.files.append(_merge_path(store, path, known, then, shared))
    return report


def _read_ahead(store: Store, todo: list[str | Path], i: int, reader: ThreadPoolExecutor, ahead: _Ahead) -> None:
    """Look at file ``i`` while the current one is merged: merged already, or start reading its events."""
    if i < len(todo):
        probe = FileResult(str(todo[i]), ok=False)
        uuid = _nothing_new(store, todo[i], probe)
        ahead[i] = (uuid, probe) if uuid is not None else reader.submit(_prepare, todo[i])


def _merge_path(store: Store, path: str | Path, known: Future[_Prepared] | tuple[str, FileResult] | None,
                next_read: Callable[[], None], shared: _Shared) -> FileResult:  # fmt: skip
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
            with _file(store) as tx:
                tx.execute("UPDATE crowd_packs SET last_merged_at = ? WHERE uuid = ?", (utcnow(), uuid))
                _log(tx, None, result, "ok", "nothing new")
            return result
        prep = known.result() if isinstance(known, Future) else _prepare(path)
        data = prep.data
        result.round, result.annotator, result.n_events = data.info.round, data.info.annotator, len(data.rows)
        with _file(store) as tx:
            result.n_new, result.n_changed = _merge_one(tx, prep, shared)
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


@dataclass
class _Prepared:
    """A file's events in uuid order, the winning label (event uuid) per item, their kinds and last number."""

    data: PackEvents
    winners: dict[str, str]
    kinds: set[str]
    last_seq: int


def _prepare(path: str | Path) -> _Prepared:
    """Read a file's events for the merge (also in the background: no database access)."""
    data = read_events(path)
    data.rows.sort(key=itemgetter(_UUID))
    last = max((int(r[0] or 0) for r in data.rows), default=0)
    return _Prepared(data, _winners(data.rows), {r[_KIND] for r in data.rows}, last)


def _winners(rows: list[tuple[Any, ...]]) -> dict[str, str]:
    """Item key -> uuid of the winning label among event rows (:func:`events.live_rows`)."""
    return {key: row[_UUID] for key, row in live_rows([r for r in rows if r[_KIND] in _LABEL_KINDS]).items()}


def _merge_one(tx: Any, prep: _Prepared, shared: _Shared) -> tuple[int, int]:
    """Insert the unseen events of one pack and bring the annotations up to date."""
    data = prep.data
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
    new = [r for r in data.rows if r[_UUID] not in seen] if seen else data.rows  # in uuid order (see _prepare)
    n_before = conn.execute(
        "SELECT count(*) FROM crowd_events WHERE round_id = ? AND annotator_id = ?", (round_id, annotator_id)
    ).fetchone()[0]  # fmt: skip
    now = utcnow()
    if new and not copy_events(tx, shared.files, data, prep.last_seq, (round_id, annotator_id, info.pack_uuid, now)):
        # in key order: WITHOUT ROWID tables are b-trees on the (random) uuid, appending is cheaper
        tx.executemany(
            f"INSERT OR IGNORE INTO crowd_events (round_id, pack_uuid, annotator_id, merged_at, {', '.join(EVENT_FIELDS)})"
            f" VALUES (?, ?, ?, ?, {', '.join('?' * len(EVENT_FIELDS))})",
            [(round_id, info.pack_uuid, annotator_id, now, r[0] or 0, *r[1:]) for r in new],
        )  # fmt: skip
    tx.execute("UPDATE crowd_packs SET last_merged_at = ? WHERE uuid = ?", (now, info.pack_uuid))
    kinds = prep.kinds if new is data.rows else {r[_KIND] for r in new}
    changed = 0
    if kinds & set(_LABEL_KINDS):
        # A worker's first merge has all its events in the file (winners found as it was read);
        # later ones read them back.
        if n_before:
            rows = conn.execute(
                f"SELECT {', '.join(EVENT_FIELDS)} FROM crowd_events WHERE round_id = ? AND annotator_id = ?"
                f" AND kind IN ({', '.join('?' * len(_LABEL_KINDS))})", (round_id, annotator_id, *_LABEL_KINDS),
            ).fetchall()  # fmt: skip
            winners = _winners(rows)
        else:
            winners = prep.winners
        changed = _sync_labels(tx, round_id, info.round, annotator_id, winners, partial(shared.round_items, conn, round_id))
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


def _sync_labels(tx: Any, round_id: int, round_name: str, annotator_id: int, winners: dict[str, str],
                 items: Callable[[], dict[str, int]]) -> int:  # fmt: skip
    """Make one worker's winning labels (``crowd_labels``) and annotations follow its events.

    ``winners``: item key -> uuid of the winning label among all its events (see :func:`_winners`);
    ``items()``: the round's items that take annotations (:meth:`_Shared.round_items`).
    Returns the annotation rows inserted or retracted.
    """
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
    changed_winners = [(k, winners[k]) for k in changed]
    return len(retract) + write_winners(tx, round_id, round_name, annotator_id, changed_winners, items())


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
