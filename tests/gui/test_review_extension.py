"""The extension point review mode uses: own queue, hold after commit with a reveal panel, a/x keys."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from tests.gui._data import fill_store
from tiebreak.core.labelling.queue import LabelQueue
from tiebreak.core.labelling.session import LabellingSession
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.actions import ActionSpec
from tiebreak.gui.labelling.workspace import Workspace, WorkspaceMode


class FakeReview(WorkspaceMode):
    def __init__(self):
        self.panel = QLabel()
        self.decisions = []

    def extra_actions(self):
        return (ActionSpec("accept", "Accept judge", ("A",), "&Review", True, "accept the verdict"),
                ActionSpec("override", "Override judge", ("X",), "&Review", True, "keep your label"))

    def after_commit(self, change, workspace):
        workspace.view.reveal_area.addWidget(self.panel)
        self.panel.setText(f"judge verdict for {change.comparison_id}: output 2 (confidence 0.8)")
        return True

    def on_undo(self, change, workspace):
        self.panel.setText("")

    def trigger(self, action_id, workspace):
        if workspace.holding is None:
            raise RuntimeError("vote first")
        self.decisions.append((action_id, workspace.holding.comparison_id))
        workspace.advance()


def test_review_mode_holds_reveals_and_adds_actions(qtbot, store):
    ids = fill_store(store, 2)
    mode = FakeReview()
    ctx = AppContext(store=store, db_path=None)
    messages = []
    ctx.events.status_message.connect(messages.append)
    ws = Workspace(ctx, mode=mode)
    qtbot.addWidget(ws)
    ws.show()
    qtbot.waitExposed(ws)
    ws.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is ws)
    with store.transaction() as tx:
        reviewer = tx.annotator_id("rita")
    sample = ids[:2]  # (a) the mode supplies the queue
    ws.start(LabellingSession(store, reviewer, LabelQueue(sample, "rita"), source="review"))
    shown = ws.session.current()
    assert shown.pair.generator_2 not in ws.view.left.header.text() + ws.view.right.header.text()

    qtbot.keyClick(ws, Qt.Key.Key_2)  # blind vote
    assert ws.holding is not None  # (b) held with the reveal panel and names on the columns
    assert "judge verdict" in mode.panel.text()
    assert shown.pair.generator_2 in ws.view.left.header.text() + ws.view.right.header.text()
    src = store.conn.execute("SELECT source, comparison_id FROM annotations WHERE annotator_id = ?",
                             (reviewer,)).fetchall()
    assert src == [("review", shown.pair.comparison_id)]
    qtbot.keyClick(ws, Qt.Key.Key_1)  # vote keys wait until the reviewer decides
    assert "finish the revealed item" in messages[-1]

    qtbot.keyClick(ws, Qt.Key.Key_A)  # (c) the mode's own key
    assert mode.decisions == [("accept", shown.pair.comparison_id)]
    assert ws.holding is None and ws.session.current().pair.comparison_id != shown.pair.comparison_id
    assert "[A]" in ws.view.button_widgets["accept"].text()
    assert any(s.id == "override" for s in ws.all_specs())
