"""Defect 3 of issue 9: identity and drafts never leak across databases or annotators."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui._data import fill_store
from tiebreak.core.identity import database_id
from tiebreak.core.store import Store
from tiebreak.gui.app import build_window


def open_window(qtbot, path, settings):
    window = build_window(path, settings)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def start_as(qtbot, screen, name):
    """Type a name in the "who is labelling?" form and press Enter, as a user does."""
    field = screen.form.annotator.lineEdit()
    field.clear()
    qtbot.keyClicks(field, name)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert screen.currentWidget() is screen.workspace
    screen.workspace.setFocus()


def make_db(path):
    store = Store(path, create=True)
    fill_store(store)
    key = database_id(store)
    store.close()
    return key


def test_each_database_has_its_own_random_identity(tmp_path):
    a, b = make_db(tmp_path / "a.sqlite"), make_db(tmp_path / "b.sqlite")
    assert a != b and len(a) == 32
    reopened = Store(tmp_path / "a.sqlite")
    assert database_id(reopened) == a  # stable across openings
    reopened.close()


def test_a_new_database_never_resumes_the_last_annotator_of_another(tmp_path, qtbot, settings):
    make_db(tmp_path / "a.sqlite")
    window = open_window(qtbot, tmp_path / "a.sqlite", settings)
    start_as(qtbot, window.screen(0), "alice")
    window.close()
    window.ctx.store.close()
    make_db(tmp_path / "b.sqlite")
    other = open_window(qtbot, tmp_path / "b.sqlite", settings)
    screen = other.screen(0)
    assert screen.currentWidget() is screen.form and screen.workspace.session is None
    assert screen.form.annotator.currentText() == ""  # not alice: she labelled another database
    other.close()
    other.ctx.store.close()
    again = open_window(qtbot, tmp_path / "a.sqlite", settings)
    screen = again.screen(0)
    assert screen.currentWidget() is screen.form  # asked again, prefilled with this database's name
    assert screen.form.annotator.currentText() == "alice"
    again.ctx.store.close()


def rationales(store):
    return store.conn.execute(
        """SELECT n.name, a.rationale FROM annotations a JOIN annotators n ON n.id = a.annotator_id
           WHERE a.source = 'label' ORDER BY a.id"""
    ).fetchall()


def test_an_unsent_draft_never_goes_with_the_next_annotators_vote(ctx, make_window, qtbot):
    window = make_window(ctx)
    screen = window.screen(0)
    start_as(qtbot, screen, "alice")
    ws = screen.workspace
    qtbot.keyClick(ws, Qt.Key.Key_R)  # into the rationale box
    qtbot.keyClicks(ws.view.rationale, "alice thinks left is vague")
    qtbot.keyClick(ws.view.rationale, Qt.Key.Key_Escape)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # File > New labelling session
    assert screen.currentWidget() is screen.form
    start_as(qtbot, screen, "bob")
    assert ws.view.rationale.toPlainText() == "" and ws.view.identity.text() == "Labelling as bob"
    qtbot.keyClick(ws, Qt.Key.Key_Left)
    assert rationales(ctx.store) == [("bob", None)]


def test_a_draft_stays_with_its_item(ctx, make_window, qtbot):
    window = make_window(ctx)
    screen = window.screen(0)
    start_as(qtbot, screen, "carol")
    ws = screen.workspace
    first = ws.session.current().pair.comparison_id
    qtbot.keyClick(ws, Qt.Key.Key_R)
    qtbot.keyClicks(ws.view.rationale, "about the first item")
    qtbot.keyClick(ws.view.rationale, Qt.Key.Key_Escape)
    qtbot.keyClick(ws, Qt.Key.Key_Space)  # skip: the first item goes to the end of the queue
    assert ws.session.current().pair.comparison_id != first and ws.view.rationale.toPlainText() == ""
    qtbot.keyClick(ws, Qt.Key.Key_Backspace)  # undo the skip: back to the first item and its draft
    assert ws.session.current().pair.comparison_id == first
    assert ws.view.rationale.toPlainText() == "about the first item"
    qtbot.keyClick(ws, Qt.Key.Key_Right)
    assert rationales(ctx.store) == [("carol", "about the first item")]


def test_pooled_statistics_are_hidden_from_labellers_unless_a_coordinator_turns_them_on(tmp_path, qtbot, settings,
                                                                                        capsys):  # fmt: skip
    from tiebreak.core.cli import main

    make_db(tmp_path / "a.sqlite")
    window = open_window(qtbot, tmp_path / "a.sqlite", settings)
    screen = window.screen(0)
    start_as(qtbot, screen, "dan")
    ws = screen.workspace
    qtbot.keyClick(ws, Qt.Key.Key_Left)
    qtbot.wait(50)  # the statistics would load after the first paint
    stats = ws.view.stats
    assert ws.stats_feed is None and "hidden while labelling" in stats.status.text()
    assert stats.win_table.rowCount() == 0 and stats.agree_table.rowCount() == 0  # no pooled figures
    assert "items done: 1" in stats.session_label.text()  # the labeller's own progress stays
    window.close()
    window.ctx.store.close()
    assert main(["coordinator", "--pooled-stats", "on", "--db", str(tmp_path / "a.sqlite")]) == 0
    assert "pooled statistics for labellers: on" in capsys.readouterr().out
    again = open_window(qtbot, tmp_path / "a.sqlite", settings)
    screen = again.screen(0)
    start_as(qtbot, screen, "dan")
    qtbot.waitUntil(lambda: screen.workspace.stats_feed is not None)
    assert screen.workspace.view.stats.win_table.rowCount() > 0
    again.ctx.store.close()
