"""A labeller's queue: seeded per-annotator order, per-item left/right swaps, skips at the end."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass

from tiebreak.core.errors import TiebreakError

__all__ = ["LabelQueue", "QueueError", "item_order", "is_swapped"]


class QueueError(TiebreakError, ValueError):
    """An operation names an item that is not in the state it needs (e.g. not pending)."""


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


def item_order(comparison_ids: Iterable[int], annotator: str, seed: int = 0) -> list[int]:
    """Reproducible shuffled order of ``comparison_ids`` for one annotator.

    Parameters
    ----------
    comparison_ids : iterable of int
        The items of the queue (duplicates are removed, input order does not matter).
    annotator : str
        Annotator name; different annotators get independent orders.
    seed : int
        Queue seed; the same (ids, annotator, seed) always gives the same order.

    Returns
    -------
    list of int
    """
    ids = sorted(set(int(c) for c in comparison_ids))
    rng = random.Random(int.from_bytes(_digest("order", seed, annotator)[:8], "big"))
    rng.shuffle(ids)
    return ids


def is_swapped(comparison_id: int, annotator: str, seed: int = 0) -> bool:
    """True when the candidate (output_2) is shown on the left for this item and annotator.

    Deterministic (a hash of seed, annotator and item), so a resumed queue shows the same sides,
    and independent per item, so about half of the items are swapped.
    """
    return bool(_digest("swap", seed, annotator, int(comparison_id))[0] & 1)


@dataclass(frozen=True)
class QueueItem:
    """The item in front of the labeller: which comparison, which side is where, where we are."""

    comparison_id: int
    swapped: bool
    position: int  # 1-based: number of finished items + 1
    total: int


class LabelQueue:
    """Pending items in order; finished items leave it, skipped items go to the end.

    "Can't judge" is a terminal answer: the session calls :meth:`complete` for it as for a vote.
    Undo of a decision calls :meth:`reopen` (the item comes back to the front); undo of a skip
    calls :meth:`unskip`.
    """

    def __init__(
        self,
        comparison_ids: Iterable[int],
        annotator: str,
        seed: int = 0,
        *,
        done: Iterable[int] = (),
        skipped: Iterable[int] = (),
    ) -> None:
        self.annotator = annotator
        self.seed = int(seed)
        order = item_order(comparison_ids, annotator, self.seed)
        known = set(order)
        self._done: set[int] = {int(c) for c in done} & known
        skipped_list = [int(c) for c in skipped if int(c) in known and int(c) not in self._done]
        skipped_set = set(skipped_list)
        self._pending: list[int] = [c for c in order if c not in self._done and c not in skipped_set]
        self._pending.extend(dict.fromkeys(skipped_list))  # skipped earlier: at the end, in order
        self.total = len(order)

    # -- reads ----------------------------------------------------------------------------
    def current(self) -> QueueItem | None:
        """The item to show now, or None when the queue is empty."""
        if not self._pending:
            return None
        cid = self._pending[0]
        return QueueItem(cid, self.swapped(cid), len(self._done) + 1, self.total)

    def swapped(self, comparison_id: int) -> bool:
        """Shown orientation of an item for this queue's annotator and seed."""
        return is_swapped(comparison_id, self.annotator, self.seed)

    @property
    def n_done(self) -> int:
        """Number of finished items (votes and can't-judge)."""
        return len(self._done)

    @property
    def pending(self) -> list[int]:
        """Copy of the pending items in the order they will be shown."""
        return list(self._pending)

    def peek(self, offset: int = 1) -> int | None:
        """The item ``offset`` places behind the current one (None when there is none)."""
        return self._pending[offset] if 0 <= offset < len(self._pending) else None

    def is_done(self, comparison_id: int) -> bool:
        """True when the item has a terminal answer."""
        return int(comparison_id) in self._done

    # -- transitions ----------------------------------------------------------------------
    def _take(self, comparison_id: int) -> None:
        try:
            self._pending.remove(int(comparison_id))
        except ValueError:
            raise QueueError(f"item {comparison_id} is not pending in this queue") from None

    def complete(self, comparison_id: int) -> None:
        """Mark an item finished (a vote or can't-judge); it leaves the queue."""
        self._take(comparison_id)
        self._done.add(int(comparison_id))

    def skip(self, comparison_id: int) -> None:
        """Defer an item: it moves to the end of the queue."""
        self._take(comparison_id)
        self._pending.append(int(comparison_id))

    def unskip(self, comparison_id: int) -> None:
        """Undo a skip: the item comes back to the front."""
        self._take(comparison_id)
        self._pending.insert(0, int(comparison_id))

    def reopen(self, comparison_id: int) -> None:
        """Undo a finished item: it is pending again, at the front."""
        cid = int(comparison_id)
        if cid not in self._done:
            raise QueueError(f"item {comparison_id} is not finished in this queue")
        self._done.discard(cid)
        self._pending.insert(0, cid)
