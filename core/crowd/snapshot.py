"""What the Coordinator screen shows, as one core snapshot (quality recomputed only when data changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from tiebreak.core.crowd.quality import round_quality
from tiebreak.core.crowd.round import round_row
from tiebreak.core.crowd.status import RoundStatus, round_names, round_status
from tiebreak.core.identity import pooled_statistics_shown
from tiebreak.core.store import Store

__all__ = ["Snapshot", "CoordinatorModel"]


@dataclass
class Snapshot:
    """Rounds, the chosen round's status and quality, and the blindness setting."""

    rounds: list[str]
    round: str | None
    status: RoundStatus | None
    quality: pd.DataFrame | None
    show_pooled: bool


class CoordinatorModel:
    """Builds snapshots for one store; caches status and quality per round until the data changes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[Any, RoundStatus, pd.DataFrame]] = {}

    def _version(self, round_id: int) -> tuple[Any, ...]:
        """Changes whenever a merge, an exclusion, a reissue or a flag changes what the screen shows."""
        return tuple(self.store.conn.execute(
            "SELECT (SELECT max(id) FROM crowd_merges),"
            " (SELECT count(*) FROM crowd_packs WHERE round_id = ?1),"
            " (SELECT group_concat(annotator_id || ':' || coalesce(excluded_at, '')) FROM crowd_workers WHERE round_id = ?1),"
            " (SELECT max(id) FROM flags), (SELECT count(*) FROM flags WHERE retracted_at IS NULL)",
            (round_id,),
        ).fetchone())  # fmt: skip

    def snapshot(self, name: str | None = None) -> Snapshot:
        """The snapshot of round ``name`` (default: the newest round; None when there is none)."""
        rounds = round_names(self.store)
        show = pooled_statistics_shown(self.store)
        if name is None or name not in rounds:
            name = rounds[-1] if rounds else None
        if name is None:
            return Snapshot(rounds, None, None, None, show)
        version = self._version(round_row(self.store, name)["id"])
        cached = self._cache.get(name)
        if cached is None or cached[0] != version:  # recompute only what a change can have moved
            cached = (version, round_status(self.store, name), round_quality(self.store, name))
            self._cache[name] = cached
        return Snapshot(rounds, name, cached[1], cached[2], show)
