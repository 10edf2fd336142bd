"""A vote while another program holds the write lock: the key returns at once, the vote is saved later, once.

Real SQLite files: a second connection holds the database's write lock (as a big import does)
while real key presses reach the labelling screen offscreen.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.core.test_session import FakeTime
from tiebreak.core.labelling.session import ActiveClock
from tiebreak.core.store import Store
from tiebreak.gui.labelling.pending import BUSY_TEXT

KEYS = {Qt.Key.Key_Left: ("left", 1.0), Qt.Key.Key_Right: ("right", 2.0), Qt.Key.Key_Down: ("tie_good", 1.5)}


class Lock:
    """Another connection holding the write lock inside an open transaction (like an import)."""

    def __init__(self, path):
        self.store = Store(path)
        self._stack: ExitStack | None = None

    def take(self):
        self._stack = ExitStack()
        tx = self._stack.enter_context(self.store.transaction())
        tx.annotator_id("import-in-progress", "judge")  # something written, not yet committed
        return self

    def release(self):
        self._stack.close()
        self._stack = None

    @property
    def held(self) -> bool:
        return self._stack is not None and self.store.conn.in_transaction


@pytest.fixture
def busy_setup(file_labelling, qtbot):
    """(window, workspace, lock, fake time) over a file database; the fake clock drives active seconds."""
    path, window, screen = file_labelling("shared.tiebreak", n_instructions=8)
    assert screen.store is not screen.ctx.store and screen.store.path == path  # its own, interactive connection
    ws = screen.workspace
    t = FakeTime()
    ws.session.clock = ActiveClock(60, now=t)
    ws.setFocus()
    lock = Lock(path)
    yield window, ws, lock, t
    if lock.held:
        lock.release()
    lock.store.close()


def labels(path_store):
    return path_store.conn.execute(
        "SELECT comparison_id, preference, raw_choice, seconds FROM annotations"
        " WHERE source = 'label' AND retracted_at IS NULL ORDER BY id"
    ).fetchall()


def test_key_returns_while_the_lock_is_held_and_the_vote_is_saved_once_after(busy_setup, qtbot):
    window, ws, lock, t = busy_setup
    shown = ws.session.current()
    cid = shown.pair.comparison_id
    t.t += 12.5
    lock.take()
    qtbot.keyClick(ws, Qt.Key.Key_Right)
    assert lock.held  # the key handler returned while the other program was still writing
    assert ws.pending.active and ws.pending.choice.value == "right"
    assert BUSY_TEXT in window.statusBar().currentMessage()
    assert "waiting to be saved" in ws.view.reveal.text()
    qtbot.keyClick(ws, Qt.Key.Key_Left)  # ignored: one vote at a time
    assert ws.pending.choice.value == "right" and ws.session.current().pair.comparison_id == cid
    t.t += 100  # time spent waiting for the database is not labelling time
    lock.release()
    qtbot.waitUntil(lambda: not ws.pending.active)
    rows = labels(lock.store)
    assert rows == [(cid, 1.0 if shown.swapped else 2.0, "right", 12.5)]
    assert ws.session.current().pair.comparison_id != cid  # moved on as after any vote
    assert "saved" in window.statusBar().currentMessage()
    assert ws.undo_stack.count() == 1 and ws.session.figures().items_done == 1
    qtbot.wait(3 * 250)  # a few more retry periods: still exactly one label
    assert len(labels(lock.store)) == 1


@pytest.mark.parametrize("key", [Qt.Key.Key_Escape, Qt.Key.Key_Backspace])
def test_escape_or_undo_cancels_the_held_vote(busy_setup, qtbot, key):
    window, ws, lock, _t = busy_setup
    cid = ws.session.current().pair.comparison_id
    lock.take()
    qtbot.keyClick(ws, Qt.Key.Key_Left)
    assert ws.pending.active
    qtbot.keyClick(ws, key)
    assert not ws.pending.active and "cancelled" in window.statusBar().currentMessage()
    lock.release()
    qtbot.wait(3 * 250)
    assert labels(lock.store) == [] and ws.session.current().pair.comparison_id == cid
    qtbot.keyClick(ws, Qt.Key.Key_Left)  # the database is free: an ordinary vote
    assert [r[0] for r in labels(lock.store)] == [cid]


def test_no_vote_lost_over_votes_interleaved_with_lock_holds(busy_setup, qtbot):
    window, ws, lock, _t = busy_setup
    expected = []
    keys = list(KEYS)
    for i in range(ws.session.queue.total):
        shown = ws.session.current()
        key = keys[i % len(keys)]
        choice, pref = KEYS[key]
        flip = {1.0: 2.0, 2.0: 1.0, 1.5: 1.5}
        expected.append((shown.pair.comparison_id, flip[pref] if shown.swapped else pref, choice))
        busy = i % 3 != 2  # two of every three votes meet a lock
        if busy:
            lock.take()
        qtbot.keyClick(ws, key)
        if busy:
            assert lock.held and ws.pending.active
            qtbot.keyClick(ws, keys[(i + 1) % len(keys)])  # an impatient second key: ignored
            lock.release()
            qtbot.waitUntil(lambda: not ws.pending.active)
        assert [r[:3] for r in labels(lock.store)] == expected
    assert ws.session.current() is None and ws.session.figures().items_done == len(expected)


def _answer_when_shown(qtbot, button_text):
    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        next(b for b in box.buttons() if b.text() == button_text).click()

    QTimer.singleShot(0, click)


def test_closing_with_a_held_vote_asks_and_never_drops_it_silently(busy_setup, qtbot):
    window, ws, lock, _t = busy_setup
    cid = ws.session.current().pair.comparison_id
    ws.pending.close_wait_ms = 1
    lock.take()
    qtbot.keyClick(ws, Qt.Key.Key_Down)
    _answer_when_shown(qtbot, "Keep waiting")
    window.close()
    assert window.isVisible() and ws.pending.active  # not closed: the vote is still held
    lock.release()
    window.close()  # the last try saves it, then the window closes
    assert not window.isVisible() and not ws.pending.active
    assert [r[:3] for r in labels(lock.store)] == [(cid, 1.5, "tie_good")]


def test_closing_and_choosing_to_lose_the_vote(busy_setup, qtbot):
    window, ws, lock, _t = busy_setup
    ws.pending.close_wait_ms = 1
    lock.take()
    qtbot.keyClick(ws, Qt.Key.Key_Left)
    _answer_when_shown(qtbot, "Close and lose the vote")
    window.close()
    assert not window.isVisible() and not ws.pending.active
    lock.release()
    assert labels(lock.store) == []


def test_undo_and_redo_while_busy_change_nothing_and_work_once_free(busy_setup, qtbot):
    window, ws, lock, _t = busy_setup
    shown = ws.session.current()
    qtbot.keyClick(ws, Qt.Key.Key_Left)  # an ordinary vote
    assert len(labels(lock.store)) == 1
    lock.take()
    qtbot.keyClick(ws, Qt.Key.Key_Backspace)
    assert lock.held and "undo: not done, the database is busy" in window.statusBar().currentMessage()
    assert ws.undo_stack.index() == 1 and ws.undo_stack.count() == 1  # the command stays, not undone
    lock.release()
    assert len(labels(lock.store)) == 1
    qtbot.keyClick(ws, Qt.Key.Key_Backspace)  # free again: the undo works
    assert labels(lock.store) == [] and ws.session.current() == shown and ws.undo_stack.index() == 0
    lock.take()
    qtbot.keyClick(ws, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "redo: not done" in window.statusBar().currentMessage() and ws.undo_stack.index() == 0
    lock.release()
    qtbot.keyClick(ws, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(labels(lock.store)) == 1 and ws.undo_stack.index() == 1
