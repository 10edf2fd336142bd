"""A vote that meets another program's write lock: DatabaseBusy, the session unchanged, the retry stores it once."""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.core.test_session import FakeTime, RecordingStats
from tests.core.test_spotcheck_audit import build_spotcheck_store
from tests.gui._data import CANDIDATES, REFERENCE, fill_store
from tiebreak.core.domain import Choice
from tiebreak.core.labelling.session import ActiveClock, DatabaseBusy, LabellingSession, QueueSpec
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.review.session import ReviewSession, ReviewState
from tiebreak.core.sample import open_interactive
from tiebreak.core.store import INTERACTIVE_BUSY_TIMEOUT_MS, Store, StoreError


@pytest.fixture
def db(tmp_path):
    """A file database with 4 instructions x 2 candidates; the path."""
    path = tmp_path / "busy.tiebreak"
    store = Store(path, create=True)
    fill_store(store)
    store.close()
    return path


@contextmanager
def write_lock(path):
    """Another connection (an import, say) holding the database's write lock."""
    other = Store(path)
    try:
        with other.transaction() as tx:
            tx.annotator_id("importer-in-progress", "judge")
            yield other
    finally:
        other.close()


def labels(store):
    return store.conn.execute(
        "SELECT comparison_id, preference, seconds, submitted_at FROM annotations WHERE source = 'label'"
    ).fetchall()


def state(session):
    q = session.queue
    return (session.current(), q.n_done, q.total, session.figures(), list(session.stats.rows))


def test_open_interactive_waits_briefly_and_memory_stays_itself(db):
    base = Store(db)
    interactive = open_interactive(base)
    assert interactive is not base and interactive.busy_timeout_ms == INTERACTIVE_BUSY_TIMEOUT_MS
    assert interactive.conn.execute("PRAGMA busy_timeout").fetchone()[0] == INTERACTIVE_BUSY_TIMEOUT_MS
    with interactive.busy_timeout(1234):
        assert interactive.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 1234
    assert interactive.conn.execute("PRAGMA busy_timeout").fetchone()[0] == INTERACTIVE_BUSY_TIMEOUT_MS
    memory = Store(memory=True)
    assert open_interactive(memory) is memory
    with pytest.raises(StoreError, match="busy_timeout_ms"):
        Store(db, busy_timeout_ms=-1)


def test_a_busy_unit_of_work_raises_database_busy_and_writes_nothing(db):
    store = open_interactive(Store(db))
    with write_lock(db):
        with pytest.raises(DatabaseBusy, match="locked"), store.transaction() as tx:
            tx.annotator_id("never-written")
        assert not store.in_transaction
    assert store.annotator_row(name="never-written") is None
    assert store.annotator_row(name="importer-in-progress") is not None


def test_busy_vote_leaves_the_session_unchanged_and_the_retry_keeps_the_first_measure(db):
    t = FakeTime()
    store = open_interactive(Store(db))
    spec = QueueSpec("alice", REFERENCE, CANDIDATES)
    session = LabellingSession.open(store, spec, stats=RecordingStats(), clock=ActiveClock(60, now=t))
    first = session.record(Choice.LEFT)  # one vote before, so the figures are not empty
    shown = session.current()
    t.t += 7.25
    before = state(session)
    with write_lock(db):
        with pytest.raises(DatabaseBusy):
            session.record(Choice.RIGHT, "clearer")
        assert state(session) == before
        t.t += 30  # waiting for the import is not labelling time
        with pytest.raises(DatabaseBusy):
            session.record(Choice.RIGHT, "clearer")
        assert state(session) == before
    assert len(labels(store)) == 1
    t.t += 30
    change = session.record(Choice.RIGHT, "clearer")
    assert change.shown == shown and change.seconds == pytest.approx(7.25)
    rows = labels(store)
    assert len(rows) == 2 and rows[1][0] == shown.pair.comparison_id and rows[1][2] == pytest.approx(7.25)
    assert rows[1][1] == (1.0 if shown.swapped else 2.0)  # right on screen, in canonical order
    assert session.queue.n_done == 2 and session.figures().items_done == 2
    assert len(session.stats.rows) == 2 and first.row_id != change.row_id
    session.current()
    t.t += 4  # the next item measures afresh
    assert session.record(Choice.LEFT).seconds == pytest.approx(4)


def test_a_cancelled_busy_vote_measures_afresh(db):
    t = FakeTime()
    store = open_interactive(Store(db))
    session = LabellingSession.open(store, QueueSpec("bob", REFERENCE, CANDIDATES), clock=ActiveClock(60, now=t))
    session.current()
    t.t += 5
    with write_lock(db), pytest.raises(DatabaseBusy):
        session.record(Choice.LEFT)
    session.forget_attempt()
    t.t += 6
    assert session.record(Choice.LEFT).seconds == pytest.approx(11)


def test_busy_review_vote_stays_blind_and_the_retry_reveals(tmp_path):
    path = tmp_path / "review.tiebreak"
    base = Store(path, create=True)
    build_spotcheck_store(base, n_instructions=6)
    sample_audit(base, "gpt4_judge", 5, "uniform", seed=3)
    t = FakeTime()
    store = open_interactive(base)
    session = ReviewSession.open_review(store, "carol", "gpt4_judge")
    session.clock = ActiveClock(60, now=t)
    shown = session.current()
    t.t += 3.5
    n_done = session.queue.n_done
    with write_lock(path), pytest.raises(DatabaseBusy):
        session.record(Choice.TIE_GOOD)
    assert session.state is ReviewState.BLIND and session.current() == shown
    assert session.queue.n_done == n_done and session.figures().items_done == 0 and not session.reveals
    n_reviews = base.conn.execute("SELECT count(*) FROM review_actions").fetchone()[0]
    t.t += 20
    change = session.record(Choice.TIE_GOOD)
    assert session.state is ReviewState.REVEALED and change.seconds == pytest.approx(3.5)
    assert base.conn.execute("SELECT count(*) FROM review_actions").fetchone()[0] == n_reviews + 1
    assert base.conn.execute("SELECT count(*) FROM annotations WHERE source = 'review'").fetchone()[0] == 1


def test_a_second_store_in_this_process_keeps_the_log_of_the_first(tmp_path):
    """Regression: opening a second Store read the file outside SQLite, which dropped this process's
    locks; another program's close then deleted the -wal under the open connections (corrupt)."""
    path = tmp_path / "two.tiebreak"
    first = Store(path, create=True)
    fill_store(first)
    second = open_interactive(first)
    code = ("import sys; from tiebreak.core.store import Store; s = Store(sys.argv[1])\n"
            "with s.transaction() as tx: tx.annotator_id('other-program')\n"
            "s.close()")  # fmt: skip
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, timeout=120)
    assert Path(f"{path}-wal").exists()  # the other program saw our connections and left the log
    assert first.check(full=True) == [] and second.annotator_row(name="other-program") is not None
    assert first.counts()["comparisons"] == 8
    second.close()
    third = Store(path)  # still open once here: no look at the file outside SQLite
    assert third.counts() == first.counts()
