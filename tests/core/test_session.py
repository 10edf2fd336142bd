"""Tests for tiebreak.core.labelling.session: recording, skips, flags, undo/redo, figures and the active clock."""

import json

import pytest

from tests.gui._data import CANDIDATES, REFERENCE, fill_store
from tiebreak.core.domain import Choice
from tiebreak.core.labelling.session import ActiveClock, LabellingSession, QueueSpec, SessionError


class FakeTime:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class RecordingStats:
    def __init__(self):
        self.rows = []

    def add(self, row):
        self.rows.append(dict(row))

    def retract(self, row):
        self.rows.remove(dict(row))


def test_active_clock_cuts_idle_gaps():
    t = FakeTime()
    clock = ActiveClock(60, now=t)
    t.t += 10
    clock.touch()
    t.t += 500  # away from the desk: only 60 s count
    clock.touch()
    t.t += 5
    assert clock.seconds() == pytest.approx(75)
    t.t += 1000
    assert clock.seconds() == pytest.approx(130)
    clock.restart()
    assert clock.seconds() == 0
    with pytest.raises(ValueError, match="idle_cutoff"):
        ActiveClock(0)


def open_session(store, stats=None, now=None, **spec):
    fill_store(store)
    spec = QueueSpec(annotator=spec.get("annotator", "alice"), reference=REFERENCE,
                     candidates=CANDIDATES)
    clock = ActiveClock(60, now=now) if now else None
    return LabellingSession.open(store, spec, stats=stats, clock=clock)


def live_rows(store):
    return store.conn.execute(
        "SELECT comparison_id, preference, raw_choice, raw_preference, swapped, seconds, source,"
        " extra, shown_at, submitted_at, retracted_at, session_id FROM annotations"
        " WHERE source = 'label'"
    ).fetchall()


@pytest.mark.parametrize("choice", [Choice.LEFT, Choice.RIGHT, Choice.TIE_BAD, Choice.CANT_JUDGE])
def test_record_stores_canonical_preference_in_shown_orientation(store, choice):
    t = FakeTime()
    stats = RecordingStats()
    s = open_session(store, stats, now=t)
    for _ in range(6):  # cover both orientations
        shown = s.current()
        t.t += 7
        change = s.record(choice, "because")
        left_is_ref = not shown.swapped
        expected = {Choice.LEFT: 1.0 if left_is_ref else 2.0, Choice.RIGHT: 2.0 if left_is_ref else 1.0,
                    Choice.TIE_BAD: 1.5, Choice.CANT_JUDGE: None}[choice]
        assert change.preference == expected
        row = store.conn.execute(
            "SELECT preference, raw_choice, swapped, seconds, rationale, extra FROM annotations"
            " WHERE id = ?", (change.row_id,)).fetchone()
        assert row[:5] == (expected, choice.value, int(shown.swapped), 7.0, "because")
        assert json.loads(row[5])["position"] == shown.position
        meta = store.conn.execute("SELECT s.meta FROM sessions s JOIN annotations a"
                                  " ON a.session_id = s.id WHERE a.id = ?", (change.row_id,)).fetchone()
        assert json.loads(meta[0])["reference"] == REFERENCE
    swaps = {r[4] for r in live_rows(store)}
    assert swaps == {0, 1}
    assert len(stats.rows) == 6  # can't judge counts as unparsed (preference None)
    assert [r["preference"] for r in stats.rows] == [r[1] for r in live_rows(store)]


def test_undo_retracts_and_returns_to_item_then_redo(store):
    stats = RecordingStats()
    s = open_session(store, stats)
    first = s.current()
    change = s.record(Choice.LEFT)
    assert s.current().pair.comparison_id != first.pair.comparison_id
    assert s.figures().items_done == 1 and s.figures().counts["left"] == 1
    undone = s.undo(change)
    assert s.current().pair.comparison_id == first.pair.comparison_id
    assert live_rows(store)[0][10] is not None  # retracted, not deleted
    assert store.counts()["annotations"] == 8  # only the judge's
    assert stats.rows == [] and s.figures().items_done == 0
    s.redo(undone)
    assert live_rows(store)[0][10] is None and len(stats.rows) == 1
    assert s.current().pair.comparison_id != first.pair.comparison_id
    with pytest.raises(SessionError, match="not undone"):
        s.redo(change)


def test_skip_defers_and_is_recorded_and_undoable(store):
    s = open_session(store)
    first = s.current().pair.comparison_id
    change = s.skip()
    assert s.queue.pending[-1] == first
    assert store.conn.execute("SELECT count(*) FROM skips WHERE retracted_at IS NULL").fetchone()[0] == 1
    s.undo(change)
    assert s.current().pair.comparison_id == first
    assert store.conn.execute("SELECT count(*) FROM skips WHERE retracted_at IS NULL").fetchone()[0] == 0


def test_flag_keeps_item_and_lives_in_flags_table(store):
    s = open_session(store)
    cid = s.current().pair.comparison_id
    change = s.flag("odd")
    assert s.current().pair.comparison_id == cid
    assert store.conn.execute("SELECT comparison_id, note FROM flags").fetchall() == [(cid, "odd")]
    s.undo(change)
    assert store.conn.execute("SELECT retracted_at FROM flags").fetchone()[0] is not None


def test_resume_skips_finished_items_and_empty_queue(store):
    s = open_session(store)
    done = s.current().pair.comparison_id
    s.record(Choice.RIGHT)
    s.close()
    again = LabellingSession.open(store, QueueSpec("alice", REFERENCE, CANDIDATES))
    assert again.queue.n_done == 1 and done not in again.queue.pending
    while again.current() is not None:
        again.record(Choice.TIE_GOOD)
    assert again.queue.n_done == again.queue.total == 8
    with pytest.raises(SessionError, match="queue is empty"):
        again.record(Choice.LEFT)
    with pytest.raises(SessionError, match="not an answer"):
        again.record(Choice.SKIP)


def test_figures_median_and_counts(store):
    t = FakeTime()
    s = open_session(store, now=t)
    for secs, choice in [(4, Choice.LEFT), (10, Choice.RIGHT), (6, Choice.LEFT)]:
        s.current()
        t.t += secs
        s.record(choice)
    f = s.figures()
    assert f.items_done == 3 and f.median_seconds == 6
    assert f.counts == {"left": 2, "right": 1, "tie_good": 0, "tie_bad": 0, "cant_judge": 0}


def test_spec_validation():
    with pytest.raises(SessionError, match="annotator name is empty"):
        QueueSpec(" ", "r", ("c",))
    with pytest.raises(SessionError, match="candidate"):
        QueueSpec("a", "r", ())


def test_queue_choices_and_errors(store):
    from tiebreak.core.labelling import sql as q
    from tiebreak.core.store import UnknownName

    ids = fill_store(store)
    assert q.references(store) == [REFERENCE]
    assert q.candidates(store, REFERENCE) == list(CANDIDATES)
    assert q.datasets(store) == ["helpful_base"]
    assert sorted(q.queue_comparisons(store, REFERENCE, CANDIDATES)) == sorted(ids)
    assert q.queue_comparisons(store, REFERENCE, CANDIDATES, dataset="other") == []
    with pytest.raises(UnknownName, match="no comparisons of 'ref-model' against nobody"):
        q.queue_comparisons(store, REFERENCE, ["nobody"])
    with pytest.raises(UnknownName, match="reference 'x' has no comparisons"):
        q.queue_comparisons(store, "x", ["cand-a"])
    with pytest.raises(UnknownName, match="no candidate"):
        q.queue_comparisons(store, REFERENCE, [])


def test_live_statistics_rows_match_the_store_frame(store):
    from tiebreak.core.labelling import sql as q

    s = open_session(store)
    for choice in (Choice.LEFT, Choice.RIGHT, Choice.CANT_JUDGE):
        s.record(choice)
    humans = q.human_label_rows(store, REFERENCE, CANDIDATES)
    judges = q.judge_label_rows(store, {r["comparison_id"] for r in humans})
    frame = store.annotations_frame(with_texts=False)
    cids = {r["comparison_id"] for r in humans}
    expected = frame[(frame["annotator_kind"] == "human") | frame["comparison_id"].isin(cids)]
    got = sorted(r["annotation_id"] for r in humans + judges)
    assert got == sorted(expected["annotation_id"].tolist())
    assert {r["annotator"] for r in humans} == {"humans"} and {r["annotator"] for r in judges} == {"judge-x"}


def test_upcoming_is_what_a_vote_shows_next(store):
    s = open_session(store)
    nxt = s.upcoming()
    first = s.current()
    assert nxt.pair.comparison_id == s.queue.peek(1) and nxt.position == first.position + 1
    s.record(Choice.LEFT)
    shown = s.current()
    assert shown.pair == nxt.pair and shown.swapped == nxt.swapped and shown.position == nxt.position
    s.skip()  # the queue changed: a stale prefetch is never used for another item
    assert s.current().pair.comparison_id == s.queue.peek(0)


def test_figures_follow_undo_and_redo_exactly(store):
    import statistics

    t = FakeTime()
    s = open_session(store, now=t)
    changes = []
    for secs, choice in [(3, Choice.LEFT), (9, Choice.TIE_BAD), (5, Choice.RIGHT), (7, Choice.LEFT)]:
        s.current()
        t.t += secs
        changes.append(s.record(choice))
    undone = s.undo(changes[-1])
    s.undo(changes[-2])
    f = s.figures()
    assert f.items_done == 2 and f.median_seconds == statistics.median([3, 9])
    assert f.counts["left"] == 1 and f.counts["tie_bad"] == 1 and f.counts["right"] == 0
    s.redo(undone)
    assert s.figures().median_seconds == statistics.median([3, 9, 7]) and s.figures().counts["left"] == 2
