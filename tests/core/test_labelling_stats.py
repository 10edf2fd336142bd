"""LabellingStats (Qt-free): follows a real session's Change records and equals a rebuild from the database."""

from __future__ import annotations

from tests.gui._data import CANDIDATES, REFERENCE, fill_store
from tiebreak.core.domain import Choice
from tiebreak.core.labelling.live import LiveStats
from tiebreak.core.labelling.session import LabellingSession, QueueSpec
from tiebreak.core.labelling.stats import LabellingStats

SPEC = QueueSpec("alice", REFERENCE, CANDIDATES)


def _line(snap, candidate, group="humans"):
    return next(w for w in snap.wins if (w.candidate, w.group) == (candidate, group))


def test_apply_follows_record_undo_redo_and_equals_a_rebuild(store):
    fill_store(store, 6)
    session = LabellingSession.open(store, SPEC)
    stats = LabellingStats.load(store, SPEC, session.group)
    before = stats.snapshot()
    assert all(w.n == 0 and w.low is None for w in before.wins)
    changes = []
    for choice in (Choice.LEFT, Choice.RIGHT, Choice.TIE_GOOD, Choice.CANT_JUDGE):
        change = session.record(choice)
        snap = stats.apply(change)
        changes.append(change)
    cand = changes[0].shown.pair.generator_2
    assert sum(w.n for w in snap.wins) == 3 and sum(w.n_dropped for w in snap.wins) == 1  # can't judge: unparsed
    assert stats.apply(changes[0]) == snap  # applying the same change twice counts it once
    undone = session.undo(changes[0])
    after_undo = stats.apply(undone)
    assert _line(after_undo, cand).n == _line(snap, cand).n - 1
    redone = stats.apply(session.redo(undone))
    rebuilt = LiveStats.from_frame(store.annotations_frame(with_texts=False)).snapshot()
    mine = stats.live.snapshot()
    humans = [key for key in mine.win_rates if key[1] == "humans"]  # judges: only verdicts on labelled items
    assert humans
    for key in humans:
        assert repr(mine.win_rates[key]) == repr(rebuilt.win_rates[key])
    assert dict(mine.agreement) == dict(rebuilt.agreement)
    assert redone.agreement and redone.agreement[0].n_items >= 1  # the fill adds judge verdicts on these items


def test_session_sink_and_apply_together_do_not_double_count(store):
    fill_store(store, 4)
    session = LabellingSession.open(store, SPEC)
    stats = LabellingStats.load(store, SPEC, session.group)
    session.stats = stats  # the session feeds add/retract itself ...
    change = session.record(Choice.LEFT)
    snap = stats.apply(change)  # ... and the screen applies the same change
    assert sum(w.n for w in snap.wins) == 1
    snap = stats.apply(session.undo(change))
    assert sum(w.n for w in snap.wins) == 0


def test_judge_verdicts_read_before_the_label_change_no_figure_and_the_label_reads_none(store):
    fill_store(store, 6)
    session = LabellingSession.open(store, SPEC)
    reads: list[set[int]] = []
    stats = LabellingStats.load(store, SPEC, session.group)
    read = stats._judge_rows
    stats._judge_rows = lambda ids: (reads.append(set(ids)), read(ids))[1]
    session.stats = stats
    first = session.current().pair.comparison_id
    stats.prepare(first)  # idle time, while the item is on screen
    assert reads == [{first}]
    stats.prepare(first)
    assert reads == [{first}]  # read once
    change = session.record(Choice.LEFT)
    assert reads == [{first}]  # the label itself read no judge verdicts
    stats.prepare(session.current().pair.comparison_id)  # prepared, then skipped: never labelled
    session.skip()
    for _ in range(2):
        session.record(Choice.RIGHT)
    snap = stats.apply(change)
    fresh = LabellingStats.load(store, SPEC, session.group).snapshot()
    assert snap.wins == fresh.wins and snap.agreement == fresh.agreement
    assert snap.agreement and snap.agreement[0].n_items == 3
