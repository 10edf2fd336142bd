"""Review on its own interactive connection: a decision while another program writes never blocks.

Real SQLite files: a second connection holds the write lock (as a big import does) while real key
presses reach the Review workspace offscreen; the held-vote logic of the labelling screen applies.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.core.test_spotcheck_audit import build_spotcheck_store
from tests.gui.test_busy_vote import Lock
from tiebreak.core.review import sql as rs
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.store import Store
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.pending import BUSY_TEXT


@pytest.fixture
def busy_review(tmp_path, qtbot, settings):
    """(screen, lock, messages) over a file database with a 4-item audit sample; the review started."""
    from tiebreak.gui.review import ReviewScreen

    path = tmp_path / "review.tiebreak"
    store = Store(path, create=True)
    build_spotcheck_store(store, n_instructions=6)
    sample_audit(store, "gpt4_judge", 4, "uniform", seed=11)
    ctx = AppContext(store=store, db_path=path)
    messages: list[str] = []
    ctx.events.status_message.connect(messages.append)
    screen = ReviewScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1300, 850)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(lambda: screen.form.start_button.isEnabled())  # the form's lists came from the worker
    screen.form.reviewer.setText("alice")
    lock = Lock(path)
    yield screen, lock, messages
    if lock.held:
        lock.release()
    lock.store.close()
    store.close()


def _start(screen):
    screen.start()
    screen.workspace.setFocus()
    return screen.workspace


def test_review_writes_through_an_interactive_connection(busy_review):
    screen, _lock, _messages = busy_review
    ws = _start(screen)
    assert screen.store is not screen.ctx.store and screen.store.path == screen.ctx.db_path
    assert ws.session.store is screen.store
    assert screen.store.conn.execute("PRAGMA busy_timeout").fetchone()[0] < 1000  # never seconds


def test_blind_vote_during_a_write_is_held_then_saved_once(busy_review, qtbot):
    screen, lock, messages = busy_review
    ws = _start(screen)
    cid = ws.session.current().pair.comparison_id
    lock.take()
    qtbot.keyClick(ws, Qt.Key.Key_1)  # blind: left is better
    assert lock.held  # the key handler returned while the other program was still writing
    assert ws.pending.active and ws.pending.choice.value == "left"
    assert any(BUSY_TEXT in m for m in messages)
    assert rs.review_rows(lock.store).empty and ws.holding is None  # nothing stored, still blind
    lock.release()
    qtbot.waitUntil(lambda: not ws.pending.active)
    rows = rs.review_rows(lock.store)
    assert len(rows) == 1 and rows.iloc[0]["comparison_id"] == cid and rows.iloc[0]["blind_choice"] == "left"
    assert ws.holding is not None and ws.panel.isVisible()  # revealed, as after any blind vote
    qtbot.wait(3 * 250)  # a few more retry periods: still one decision
    assert len(rs.review_rows(lock.store)) == 1


def test_accept_during_a_write_says_busy_and_works_after(busy_review, qtbot):
    screen, lock, messages = busy_review
    ws = _start(screen)
    qtbot.keyClick(ws, Qt.Key.Key_Down)  # blind tie, stored at once (nobody else writes)
    assert ws.holding is not None
    lock.take()
    qtbot.keyClick(ws, Qt.Key.Key_A)
    assert lock.held and "database is busy" in messages[-1]
    assert rs.review_rows(lock.store).iloc[0]["action"] is None  # the verdict is still open
    assert ws.holding is not None and ws.panel.isVisible()  # the item stays revealed: press A again
    lock.release()
    qtbot.keyClick(ws, Qt.Key.Key_A)
    assert rs.review_rows(lock.store).iloc[0]["action"] == "accept" and ws.holding is None


def test_start_during_a_write_points_to_the_button(busy_review, qtbot):
    screen, lock, _messages = busy_review
    lock.take()
    screen.form.start_button.click()
    assert lock.held and "press Start review again" in screen.form.message.text()
    assert screen.currentWidget() is screen.setup_page
    lock.release()
    screen.form.start_button.click()
    assert screen.currentWidget() is screen.workspace and screen.workspace.session is not None


def test_review_decisions_have_their_log_copied_in_the_background(busy_review, qtbot, monkeypatch):
    from tiebreak.core import sample

    monkeypatch.setattr(sample, "CHECKPOINT_CHANGES", 1)  # one change is enough
    screen, _lock, _messages = busy_review
    ws = _start(screen)
    assert screen.checkpointer.store is screen.store  # the review connection never checkpoints itself
    qtbot.keyClick(ws, Qt.Key.Key_1)  # blind vote: a change written
    qtbot.waitUntil(lambda: screen.checkpointer.copies == 1, timeout=5000)
    frames, copied = screen.checkpointer.last
    assert copied == frames > 0
