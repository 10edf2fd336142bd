"""The labelling connection never checkpoints; the app copies its write-ahead log off the GUI thread.

Real SQLite files and real key presses: without the copy the log grows with every label until
the app closes (about 35 KB a label); with it, the log is copied after enough changes and the
next votes reuse the file from its start. No vote is lost on the way.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui._data import fill_store
from tests.gui.conftest import SPEC
from tiebreak.core import sample
from tiebreak.core.sample import checkpoint_due, open_interactive
from tiebreak.core.store import Store

FEW = 5  # changes before a copy in these tests (the app's: 100)


@pytest.fixture
def small_log(monkeypatch):
    monkeypatch.setattr(sample, "CHECKPOINT_CHANGES", FEW)


def log_bytes(path) -> int:
    """Size of the database's write-ahead log file (0 when there is none)."""
    log = path.with_name(path.name + "-wal")
    return log.stat().st_size if log.exists() else 0


def labels(path):
    other = Store(path)
    try:
        return other.conn.execute("SELECT comparison_id, raw_choice FROM annotations WHERE source = 'label'"
                                  " AND retracted_at IS NULL ORDER BY id").fetchall()  # fmt: skip
    finally:
        other.close()


@pytest.fixture
def file_session(file_labelling):
    """(path, labelling screen, workspace, checkpointer): a session started on a file database."""
    path, _window, screen = file_labelling("session.tiebreak", n_instructions=24)
    screen.workspace.setFocus()
    return path, screen, screen.workspace, screen.checkpointer


def test_store_checkpoint_copies_the_log_and_the_next_write_reuses_it(tmp_path):
    path = tmp_path / "ck.tiebreak"
    base = Store(path, create=True)
    fill_store(base, n_instructions=6)
    writer = open_interactive(base)  # never checkpoints by itself
    before = log_bytes(path)
    with writer.transaction() as tx:
        for i in range(50):
            tx.annotator_id(f"annotator-{i}", "human")
    grown = log_bytes(path)
    assert grown > before
    frames, copied = Store(path).checkpoint()  # another connection, as the app's job does
    assert frames > 0 and copied == frames
    with writer.transaction() as tx:
        tx.annotator_id("after-the-copy", "human")
    assert log_bytes(path) == grown  # the log started again from its beginning: the file did not grow
    assert Store(memory=True).checkpoint() == (-1, -1)  # in memory there is no log


def test_checkpoint_due_counts_changes_and_waits_for_a_pause_until_very_many():
    assert not checkpoint_due(sample.CHECKPOINT_CHANGES - 1, idle=True)
    assert checkpoint_due(sample.CHECKPOINT_CHANGES, idle=True)
    assert not checkpoint_due(sample.CHECKPOINT_CHANGES, idle=False)  # while changes keep coming
    assert checkpoint_due(sample.CHECKPOINT_BUSY_CHANGES, idle=False)


def test_a_labelling_session_keeps_its_log_short_and_loses_no_vote(file_session, qtbot, small_log):
    path, screen, ws, checkpointer = file_session
    assert checkpointer.store is screen.store and screen.store is not screen.ctx.store
    voted = []
    high_water = []
    for round_ in range(3):
        for _ in range(12):
            voted.append(ws.session.current().pair.comparison_id)
            qtbot.keyClick(ws, Qt.Key.Key_Left)
        high_water.append(log_bytes(path))
        qtbot.waitUntil(lambda r=round_: checkpointer.copies == r + 1, timeout=5000)  # in the background, after a pause
        frames, copied = checkpointer.last
        assert copied == frames > 0
    # the file was reused from its start after each copy instead of growing by 12 labels each time
    assert high_water[0] > 0 and high_water[2] <= high_water[0] * 1.2
    assert checkpointer.changes == 0
    assert [cid for cid, _ in labels(path)] == voted
    assert ws.session.queue.n_done == len(voted)


def test_while_votes_keep_coming_only_a_huge_log_is_copied(file_session, qtbot, small_log, monkeypatch):
    path, _screen, ws, checkpointer = file_session
    checkpointer._timer.setInterval(60_000)  # the user never pauses in this test
    for _ in range(12):
        qtbot.keyClick(ws, Qt.Key.Key_Left)
    qtbot.wait(300)
    assert checkpointer.changes == 12 and checkpointer.copies == 0 and not checkpointer.busy  # waits for a pause
    monkeypatch.setattr(sample, "CHECKPOINT_BUSY_CHANGES", 13)
    qtbot.keyClick(ws, Qt.Key.Key_Left)  # the 13th change: copied at once, pause or not
    qtbot.waitUntil(lambda: checkpointer.copies == 1, timeout=5000)
    assert len(labels(path)) == 13


def test_no_copy_when_the_log_is_small_or_the_database_in_memory(ctx, make_window, qtbot):
    window = make_window(ctx)  # in memory: no log, no runner
    screen = window.screen(0)
    assert screen.start(SPEC)
    assert screen.checkpointer.runner is None and not screen.checkpointer.run_if_due()
    qtbot.keyClick(screen.workspace, Qt.Key.Key_Left)
    qtbot.wait(50)
    assert screen.checkpointer.copies == 0 and not screen.checkpointer.busy
