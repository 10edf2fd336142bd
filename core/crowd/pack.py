"""Annotator packs: one SQLite file per annotator (identity, queue, texts) that records its work as events.

A pack is an ordinary Tiebreak database (the labelling session works on it unchanged) holding
only that annotator's items, plus ``crowd_pack`` (identity), ``crowd_pack_items`` (content key,
position, side) and triggers that append every label, retraction, redo, skip, flag and session
start / end to ``crowd_pack_events`` with a random 128-bit id.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.packfile import (
    PACK_FORMAT,
    PackJob,
    issue_pack,
    pairs_of,
    record_pack,
    write_packs,
)
from tiebreak.core.crowd.round import RoundError
from tiebreak.core.labelling import sql as lq
from tiebreak.core.labelling.queue import LabelQueue
from tiebreak.core.labelling.session import LabellingSession
from tiebreak.core.store import Store, StoreError

__all__ = [
    "pairs_of", "PACK_SUFFIX", "PACK_FORMAT", "PackInfo", "PackQueue", "PackJob", "pack_name", "issue_pack", "record_pack",
    "write_packs", "read_identity", "open_pack_session", "start_pack_session", "is_pack",
]  # fmt: skip

PACK_SUFFIX = ".tiebreak"


def pack_name(round_name: str, worker: str, number: int) -> str:
    """File name of an annotator's ``number``-th pack of a round (unsafe characters replaced)."""
    safe = re.sub(r"[^\w.-]+", "_", f"{round_name}-{worker}")
    return f"{safe}{'' if number == 1 else f'-{number}'}{PACK_SUFFIX}"


@dataclass(frozen=True)
class PackInfo:
    """Identity of a pack: round, annotator, group, pack id, guidelines."""

    path: Path
    round: str
    annotator: str
    group: str
    pack_uuid: str
    guidelines: str


def read_identity(conn: sqlite3.Connection, path: Path) -> PackInfo:
    """The identity stored in a pack (RoundError when the file is not a pack)."""
    try:
        values = dict(conn.execute("SELECT key, value FROM crowd_pack"))
    except sqlite3.Error as exc:
        raise RoundError(f"{path}: not a Tiebreak pack ({exc})") from exc
    missing = [k for k in ("round", "annotator", "pack_uuid") if not values.get(k)]
    if missing:
        raise RoundError(f"{path}: not a Tiebreak pack (no {', '.join(missing)} in its identity)")
    return PackInfo(path, values["round"], values["annotator"], values.get("group") or "humans",
                    values["pack_uuid"], values.get("guidelines") or "")  # fmt: skip


class PackQueue(LabelQueue):
    """The pack's fixed queue: the coordinator's order and screen sides, skips at the end."""

    def __init__(self, order: list[int], swaps: dict[int, bool], annotator: str, *, done: set[int], skipped: list[int]):
        super().__init__(order, annotator, 0, done=done, skipped=skipped)
        self._swaps = swaps
        tail = [c for c in dict.fromkeys(skipped) if c in swaps and c not in self._done]
        held = set(tail)
        self._pending = [c for c in order if c not in self._done and c not in held] + tail

    def swapped(self, comparison_id: int) -> bool:
        """The side chosen when the round was created (repeats keep the original's side)."""
        return self._swaps[int(comparison_id)]


def open_pack_session(path: str | Path, **kwargs: Any) -> tuple[Store, LabellingSession, PackInfo]:
    """Open a pack for labelling: its store, a session with the fixed identity and queue, the identity.

    Raises
    ------
    RoundError
        The file is missing or is not a pack.
    """
    p = Path(path)
    if not p.is_file():
        raise RoundError(f"pack {p} does not exist")
    try:
        store = Store(p)
    except (sqlite3.Error, StoreError) as exc:
        raise RoundError(f"{p}: not a Tiebreak pack ({exc})") from exc
    try:
        session, info = start_pack_session(store, **kwargs)
    except Exception:
        store.close()
        raise
    return store, session, info


def start_pack_session(store: Store, **kwargs: Any) -> tuple[LabellingSession, PackInfo]:
    """A labelling session on an open pack: fixed annotator and queue (resumes where it stopped)."""
    p = store.path or Path(":memory:")
    info = read_identity(store.conn, p)
    store.conn.execute("PRAGMA journal_mode = DELETE")  # every answer lands in the one file
    rows = store.conn.execute("SELECT comparison_id, swapped FROM crowd_pack_items ORDER BY position").fetchall()
    with store.transaction() as tx:
        annotator_id = tx.annotator_id(info.annotator)
        session_id = tx.start_session(annotator_id, "crowd", {"round": info.round, "pack": info.pack_uuid})
    queue = PackQueue([r[0] for r in rows], {r[0]: bool(r[1]) for r in rows}, info.annotator,
                      done=lq.finished_comparisons(store, annotator_id),
                      skipped=lq.skipped_comparisons(store, annotator_id))  # fmt: skip
    return LabellingSession(store, annotator_id, queue, session_id=session_id, group=info.group, **kwargs), info


def is_pack(path: str | Path) -> bool:
    """True when ``path`` names a pack file (by its extension)."""
    return str(path).lower().endswith(PACK_SUFFIX)
