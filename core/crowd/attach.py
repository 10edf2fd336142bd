"""Pack files attached read-only to the coordinator's connection during a merge: their events copied by SQL.

Copying a pack's events with one ``INSERT ... SELECT`` from the attached file spares binding every
value of every row from Python (the larger part of inserting them). The merge still reads the events
itself (for the winning labels); the copy takes exactly the rows that read saw (up to its last
sequence number) and is used only when the file still holds them, else the merge inserts the rows
it read. SQLite attaches a file inside a transaction but detaches it only after the transaction
ends, so the files stay attached until the merge has committed (:func:`attached`), and a merge
attaches no more files than the connection allows (the rest are inserted from Python).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.events import EVENT_FIELDS, PackEvents
from tiebreak.core.errors import TiebreakError
from tiebreak.core.store import Store

__all__ = ["Attached", "attached", "copy_events"]

_PREFIX = "crowd_merge_src"


class Attached:
    """The pack files attached for one merge (aliases to detach when it has committed)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        options = {r[0] for r in conn.execute("PRAGMA compile_options")}
        # Read-only needs a URI filename; without URI support SQLite would take it as a file name.
        self.enabled = "USE_URI" in options or "USE_URI=1" in options
        self.aliases: list[str] = []

    def attach(self, tx: Any, path: Path) -> str | None:
        """Attach ``path`` read-only; its alias, or None when no slot is free (or URIs are off)."""
        if not self.enabled:
            return None
        conn = tx.conn
        names = {r[1] for r in conn.execute("PRAGMA database_list")}
        if len(names - {"main", "temp"}) >= conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED):
            return None
        n = 0
        while f"{_PREFIX}{n}" in names:
            n += 1
        alias = f"{_PREFIX}{n}"
        tx.execute(f"ATTACH DATABASE ? AS {alias}", (f"{path.resolve().as_uri()}?mode=ro",))
        self.aliases.append(alias)
        return alias


@contextmanager
def attached(store: Store) -> Iterator[Attached]:
    """Files attached inside the block are detached at its end (enter it before the merge's transaction).

    SQLite detaches a file only while no transaction holds it, and a write transaction (``BEGIN
    IMMEDIATE``) holds every attached file: the files are detached between transactions, under the
    store's lock (a read snapshot that reads nothing), past the write guard (detaching writes nothing).
    """
    files = Attached(store.conn)
    try:
        yield files
    finally:
        for alias in files.aliases:
            try:
                with store.snapshot():
                    store.conn.raw(f"DETACH DATABASE {alias}")
            except (sqlite3.Error, TiebreakError):
                pass  # still attached (a caller's transaction holds it): a later merge picks other aliases


def copy_events(tx: Any, files: Attached, data: PackEvents, last: int, head: tuple[int, int, str, str]) -> bool:
    """Insert a pack's events (those :func:`events.read_events` read, up to number ``last``) by SQL; False when it cannot.

    ``head``: the round id, annotator id, pack uuid and merge time every row gets. Events already
    stored (by uuid) are ignored, as the Python path ignores them.
    """
    if not data.from_pack or not data.rows:
        return False
    alias = _attach_as_read(tx, files, data, last)
    if alias is None:
        return False
    cols = ", ".join(EVENT_FIELDS)
    tx.execute(
        f"INSERT OR IGNORE INTO crowd_events (round_id, annotator_id, pack_uuid, merged_at, {cols})"
        f" SELECT ?, ?, ?, ?, {cols} FROM {alias}.crowd_pack_events WHERE seq <= ? ORDER BY uuid", (*head, last),
    )  # fmt: skip
    return True


def _attach_as_read(tx: Any, files: Attached, data: PackEvents, last: int) -> str | None:
    """Attach the pack; its alias when it holds the events read (same pack, same count up to ``last``), else None.

    A file that cannot be attached (gone, locked, unreadable since it was read) is inserted from the rows read.
    """
    try:
        alias = files.attach(tx, Path(data.info.path))
        if alias is None:
            return None
        conn = tx.conn
        # (fetchall: each statement runs to its end, none is left reading the file)
        uuid = conn.execute(f"SELECT value FROM {alias}.crowd_pack WHERE key = 'pack_uuid'").fetchall()
        n = conn.execute(f"SELECT count(*) FROM {alias}.crowd_pack_events WHERE seq <= ?", (last,)).fetchall()[0][0]
    except sqlite3.Error:
        return None
    return alias if uuid == [(data.info.pack_uuid,)] and n == len(data.rows) else None
