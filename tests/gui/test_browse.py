"""The Browse screen: names and verdicts visible, next / previous by buttons and keys, filters."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui._data import REFERENCE, fill_store
from tests.gui.test_screenshots import assert_not_blank, save
from tiebreak.gui.context import AppContext


@pytest.fixture
def screen(qtbot, store):
    from tiebreak.gui.browse import BrowseScreen

    ids = fill_store(store, 3)
    with store.transaction() as tx:
        human = tx.annotator_id("alice", "human", group="humans")
        tx.add_annotation(comparison_id=ids[1], annotator_id=human, preference=1.5,
                             rationale="both fine", source="label")  # fmt: skip
    widget = BrowseScreen(AppContext(store=store, db_path=None))
    qtbot.addWidget(widget)
    widget.resize(1300, 850)
    widget.show()
    qtbot.waitExposed(widget)
    widget.ids = ids
    return widget


def cells(widget, row):
    return [widget.table.item(row, c).text() for c in range(widget.table.columnCount())]


def test_shows_names_and_verdicts_in_words(screen, tmp_path):
    pair = screen.ctx.store.pair(screen.ids[0])
    assert screen.position.text() == "1 / 6"
    assert f"{REFERENCE} (reference)" in screen.left.header.text()
    assert f"{pair.generator_2} (candidate)" in screen.right.header.text()
    assert screen.instruction.toPlainText() == pair.instruction
    assert screen.left.view.toPlainText().strip() == pair.output_1
    judge_row = cells(screen, 0)
    expected = pair.generator_2 if screen.ids[0] % 2 == 0 else REFERENCE
    assert judge_row[:4] == ["judge-x", "judge-x", "judge", "judge"]
    assert judge_row[4] == f"{expected} is better"
    assert not screen.prev_button.isEnabled() and screen.next_button.isEnabled()
    screen.next()
    assert screen.position.text() == "2 / 6" and screen.table.rowCount() == 2
    assert cells(screen, 1)[:5] == ["alice", "humans", "human", "label", "tie"]
    assert cells(screen, 1)[6] == "both fine"
    assert_not_blank(save(screen, tmp_path, "browse"))


def test_keys_and_buttons_navigate(screen, qtbot):
    screen.setFocus()
    with qtbot.waitSignal(screen.item_shown) as shown:
        qtbot.keyClick(screen, Qt.Key.Key_N)
    assert shown.args == [screen.ids[1]] and screen.position.text() == "2 / 6"
    qtbot.keyClick(screen, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert screen.position.text() == "3 / 6"
    qtbot.keyClick(screen, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(screen, Qt.Key.Key_P)
    assert screen.position.text() == "1 / 6"
    qtbot.keyClick(screen, Qt.Key.Key_P)  # stays on the first
    assert screen.position.text() == "1 / 6"
    qtbot.mouseClick(screen.next_button, Qt.MouseButton.LeftButton)
    assert screen.position.text() == "2 / 6"
    qtbot.mouseClick(screen.prev_button, Qt.MouseButton.LeftButton)
    assert screen.position.text() == "1 / 6"


def test_filters_keep_the_item_and_follow_new_labels(screen, qtbot):
    screen.next()  # ids[1]: the one alice labelled
    screen.group.setCurrentText("humans")
    assert screen.position.text() == "1 / 1"
    assert screen.cursor.ids == [screen.ids[1]]
    cand = screen.ctx.store.pair(screen.ids[1]).generator_2
    other = next(g for g in ("cand-a", "cand-b") if g != cand)
    screen.generator.setCurrentText(other)
    assert screen.position.text() == "0 / 0" and screen.empty.isVisible()
    assert not screen.next_button.isEnabled()
    screen.generator.setCurrentText("(all)")
    store = screen.ctx.store
    with store.transaction() as tx:
        bob = tx.annotator_id("bob", "human", group="humans")
        tx.add_annotation(comparison_id=screen.ids[5], annotator_id=bob, preference=2.0, source="label")
    screen.ctx.events.annotations_changed.emit(None)  # another screen labelled
    assert screen.position.text() == "1 / 2" and screen.cursor.ids == [screen.ids[1], screen.ids[5]]


def test_registered_tab_in_the_main_window_takes_keys(qtbot, store, make_window):
    from PySide6.QtWidgets import QApplication

    from tiebreak.gui import screens
    from tiebreak.gui.browse import BrowseScreen

    fill_store(store, 2)
    window = make_window(AppContext(store=store, db_path=None), screens=screens.SCREENS)
    titles = [t for t, _ in screens.SCREENS]
    window.tabs.setCurrentIndex(titles.index("Browse"))
    browse = window.tabs.currentWidget()
    assert isinstance(browse, BrowseScreen) and browse.position.text() == "1 / 4"
    go_menu = [a.text() for a in window.menus["&Go"].actions()]
    assert "Browse" in go_menu and "Next comparison" in go_menu
    qtbot.waitUntil(lambda: browse.isAncestorOf(QApplication.focusWidget()) or QApplication.focusWidget() is browse)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_N)
    assert browse.position.text() == "2 / 4"
