"""Small crowd rounds for tests: a coordinator database, packs, and answers written into the packs."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from tests.gui._data import fill_store
from tiebreak.core.crowd.pack import open_pack_session
from tiebreak.core.crowd.round import create_round
from tiebreak.core.labelling.session import ActiveClock
from tiebreak.core.store import Store


class Clock:
    """A fake monotonic clock."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def coordinator(path: Path, n_instructions: int = 12) -> Store:
    """A coordinator database with ``n_instructions`` x 2 comparisons."""
    store = Store(path, create=True)
    fill_store(store, n_instructions)
    return store


def label_all(pack: Path, chooser, seconds: float = 20.0) -> int:  # type: ignore[no-untyped-def]
    """Answer every item of ``pack`` through the labelling session; ``chooser(shown)`` gives the key."""
    clock = Clock()
    store, session, _info = open_pack_session(pack, clock=ActiveClock(60, now=clock))
    n = 0
    while (shown := session.current()) is not None:
        clock.t += seconds
        session.record(chooser(shown))
        n += 1
    session.close()
    store.close()
    return n


def small_round(tmp: Path, workers: list[str], overlap: int = 2, **kwargs):  # type: ignore[no-untyped-def]
    """(store, created) for a round over the small database."""
    store = coordinator(tmp / "coord.sqlite")
    made = create_round(store, "r", workers, overlap, tmp / "packs", **kwargs)
    return store, made


def right_always(shown) -> str:  # type: ignore[no-untyped-def]
    """Always the output shown on the right."""
    return "right"


def seeded_random(seed: int):  # type: ignore[no-untyped-def]
    """A chooser picking left / right at random."""
    rng = random.Random(seed)
    return lambda shown: rng.choice(["left", "right"])


def twin_of(store: Store, path: Path) -> Path:
    """A byte-for-byte copy of ``store``'s database at ``path`` (to run the same merge two ways)."""
    conn = sqlite3.connect(path)
    try:
        store.conn.backup(conn)
    finally:
        conn.close()
    return path
