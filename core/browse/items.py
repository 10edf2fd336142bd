"""Browse use cases: a filtered, freely navigable list of comparisons and verdicts in words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tiebreak.core.browse import sql
from tiebreak.core.domain import Pair
from tiebreak.core.errors import TiebreakError
from tiebreak.core.store import Store

__all__ = ["BrowseCursor", "BrowseError", "BrowseFilter", "BrowseItem", "preference_words"]

BrowseFilter = sql.BrowseFilter  # re-exported: the GUI does not import the sql module


class BrowseError(TiebreakError, ValueError):
    """A browse request is impossible (unknown generator or group, position out of range)."""


def preference_words(preference: float | None, generator_1: str, generator_2: str) -> str:
    """A canonical preference in words, naming the preferred model.

    1 means output_1 (``generator_1``, the reference) is better, 2 means output_2 is better,
    1.5 is a tie; fractional values (soft judges) name the side they lean to and how strongly.
    None (or NaN) means the annotation carries no preference (unparsed, can't judge).
    """
    if preference is None or (isinstance(preference, float) and math.isnan(preference)):
        return "no preference (unparsed or can't judge)"
    p = float(preference)
    if not 1.0 <= p <= 2.0:
        raise BrowseError(f"preference_words: preference {p} is outside [1, 2]")
    if p == 1.5:
        return "tie"
    winner = generator_1 if p < 1.5 else generator_2
    if p in (1.0, 2.0):
        return f"{winner} is better"
    share = (2.0 - p) if p < 1.5 else (p - 1.0)
    return f"leans to {winner} ({share:.0%} probability it is better)"


@dataclass(frozen=True)
class BrowseItem:
    """One comparison on screen: its texts, position (1-based) and live verdicts."""

    pair: Pair
    position: int
    total: int
    verdicts: list[dict] = field(default_factory=list)
    flags: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)


class BrowseCursor:
    """A position in the filtered list of comparisons; next / previous never wrap around."""

    def __init__(self, store: Store, generators: Sequence[str] | None = None, group: str | None = None,
                 f: sql.BrowseFilter | None = None) -> None:  # fmt: skip
        f = f or sql.BrowseFilter()
        generators, group = generators or f.generators, group if group is not None else f.group
        if f.dataset is not None and f.dataset not in sql.datasets(store):
            raise BrowseError(f"browse: unknown dataset {f.dataset!r}")
        known = set(sql.candidate_generators(store))
        unknown = sorted(set(generators or ()) - known)
        if unknown:
            raise BrowseError(f"browse: unknown candidate generator(s) {', '.join(unknown)}")
        if group is not None and group not in sql.group_names(store):
            raise BrowseError(f"browse: unknown annotator group {group!r}")
        if f.ids is not None and not all(isinstance(i, int) and not isinstance(i, bool) for i in f.ids):
            bad = next(i for i in f.ids if not isinstance(i, int) or isinstance(i, bool))
            raise BrowseError(f"browse: comparison id {bad!r} is not an integer")
        self.store, self.generators, self.group = store, tuple(generators or ()), group
        self.filter = replace(f, generators=self.generators, group=group)
        self.ids = sql.comparison_ids(store, f=self.filter)
        self.index = 0

    @classmethod
    def from_ids(cls, store: Store, f: sql.BrowseFilter, ids: list[int]) -> BrowseCursor:
        """A cursor on ids already listed under ``f`` (e.g. by a worker thread), at the first one."""
        cursor = cls.__new__(cls)
        cursor.store, cursor.generators, cursor.group = store, tuple(f.generators), f.group
        cursor.filter, cursor.ids, cursor.index = f, list(ids), 0
        return cursor

    @property
    def total(self) -> int:
        """Number of comparisons under the filter."""
        return len(self.ids)

    def current(self) -> BrowseItem | None:
        """The comparison at the cursor with its verdicts (None when the filter matches nothing)."""
        if not self.ids:
            return None
        cid = self.ids[self.index]
        return BrowseItem(self.store.pair(cid), self.index + 1, self.total, sql.verdicts(self.store, cid),
                          sql.flags(self.store, cid), sql.review_actions(self.store, cid))

    def move(self, step: int) -> bool:
        """Move by ``step`` items (clamped to the list); True when the position changed."""
        if not self.ids:
            return False
        target = min(max(self.index + step, 0), len(self.ids) - 1)
        moved, self.index = target != self.index, target
        return moved

    def go_to(self, position: int) -> None:
        """Jump to a 1-based position."""
        if not 1 <= position <= len(self.ids):
            raise BrowseError(f"browse: position {position} is outside 1..{len(self.ids)}")
        self.index = position - 1

    def seek(self, comparison_id: int) -> bool:
        """Put the cursor on ``comparison_id`` if the filter contains it; True when found."""
        try:
            self.index = self.ids.index(comparison_id)
        except ValueError:
            return False
        return True
