"""Tests for tiebreak.core.labelling.queue: seeded per-annotator order, per-item swaps, skips at the end."""

import pytest

from tiebreak.core.labelling.queue import LabelQueue, QueueError, is_swapped, item_order


def test_order_is_reproducible_and_depends_on_annotator_and_seed():
    ids = list(range(1, 101))
    a = item_order(ids, "alice", seed=1)
    assert a == item_order(reversed(ids), "alice", seed=1)  # input order does not matter
    assert sorted(a) == ids
    assert a != item_order(ids, "bob", seed=1)
    assert a != item_order(ids, "alice", seed=2)
    assert a != ids  # shuffled


def test_swaps_are_per_item_and_annotator_and_balanced():
    swaps = [is_swapped(c, "alice") for c in range(2000)]
    assert 0.45 < sum(swaps) / len(swaps) < 0.55
    bob = [is_swapped(c, "bob") for c in range(2000)]
    assert swaps != bob
    assert swaps == [is_swapped(c, "alice") for c in range(2000)]


def test_complete_skip_and_position():
    q = LabelQueue([10, 20, 30], "alice")
    first = q.current()
    assert first.position == 1 and first.total == 3
    assert first.swapped == is_swapped(first.comparison_id, "alice")
    q.skip(first.comparison_id)
    assert q.pending[-1] == first.comparison_id  # skipped items come back at the end
    second = q.current()
    q.complete(second.comparison_id)
    assert q.n_done == 1 and q.current().position == 2
    assert q.is_done(second.comparison_id)


def test_undo_transitions_return_the_item_to_the_front():
    q = LabelQueue([1, 2, 3, 4], "alice")
    cid = q.current().comparison_id
    q.complete(cid)
    q.reopen(cid)
    assert q.current().comparison_id == cid and q.n_done == 0
    q.skip(cid)
    q.unskip(cid)
    assert q.current().comparison_id == cid
    with pytest.raises(QueueError, match="not finished"):
        q.reopen(cid)
    q.complete(cid)
    with pytest.raises(QueueError, match="not pending"):
        q.complete(cid)


def test_resume_drops_done_and_puts_skipped_last():
    order = item_order([1, 2, 3, 4, 5], "alice")
    q = LabelQueue([1, 2, 3, 4, 5], "alice", done=[order[1], 99], skipped=[order[0]])
    assert q.n_done == 1 and q.total == 5
    assert q.pending == [order[2], order[3], order[4], order[0]]


def test_empty_queue():
    q = LabelQueue([], "alice")
    assert q.current() is None and q.total == 0


def test_peek():
    q = LabelQueue([1, 2, 3], "alice")
    assert q.peek(0) == q.current().comparison_id and q.peek(1) == q.pending[1]
    assert q.peek(3) is None and q.peek(-1) is None
