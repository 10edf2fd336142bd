"""Defect 1 of issue 9: a key only ever acts on the screen that is shown.

For every screen with an action table and every key of that table, the key is pressed (real key
events to whatever has the focus) while another tab or the screen's own setup page is in front,
before and after a menu was opened and closed (Alt+V, Esc): the database receives no write and
the hidden screen does not move. A positive control then shows the same keys do act once the
screen is back in front.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import OFFSCREEN_NOISE, SPEC
from tiebreak.core.review.audit import sample_audit
from tiebreak.gui import screens as registry

#: Menus opened offscreen: the plugin can neither raise a popup nor grab the keyboard (noise only).
MENU_NOISE = ("does not support raise", "does not support grabbing the keyboard", OFFSCREEN_NOISE)
TITLES = [t for t, _ in registry.SCREENS]
LABELLING, REVIEW, BROWSE = TITLES.index("Labelling"), TITLES.index("Review"), TITLES.index("Browse")
OTHERS = ("Browse", "Annotators", "Human vs judge", "setup page")
CASES = [(s, t) for s in ("labelling", "review_blind", "review_revealed") for t in OTHERS]
CASES += [("browse", "Annotators"), ("browse", "Human vs judge")]


def writes(store) -> int:
    """Rows changed on the connection so far (any write to any table counts)."""
    return store.conn.total_changes


def press(window, qtbot, sequence: str) -> None:
    """Type ``sequence`` where a user's key would go (the focus widget, else the window)."""
    combo = QKeySequence(sequence)[0]
    target = QApplication.activePopupWidget() or QApplication.focusWidget() or window
    qtbot.keyClick(target, combo.key(), combo.keyboardModifiers())
    QApplication.processEvents()
    while (popup := QApplication.activePopupWidget()) is not None and popup.objectName() != "keepOpen":
        popup.close()  # a key that opened a combo box list: close it (the next key goes to the screen)


def open_and_close_menu(window, qtbot) -> None:
    press(window, qtbot, "Alt+V")
    popup = QApplication.activePopupWidget()
    if popup is not None:
        qtbot.keyClick(popup, Qt.Key.Key_Escape)
    QApplication.processEvents()


@pytest.fixture
def window(ctx, make_window, qtbot):
    sample_audit(ctx.store, "judge-x", 4, "uniform", seed=5)
    return make_window(ctx, screens=registry.SCREENS)


def start_source(window, qtbot, source):
    """Open the source screen in a state where its keys would write, and return its key table."""
    if source == "labelling":
        screen = window.screen(LABELLING)
        assert screen.start(SPEC)
        press(window, qtbot, "1")  # something to undo
        return screen, screen.workspace
    if source == "browse":
        window.tabs.setCurrentIndex(BROWSE)
        qtbot.waitUntil(lambda: window.screen(BROWSE) is not None)  # built once its module is imported
        return window.screen(BROWSE), window.screen(BROWSE)
    window.tabs.setCurrentIndex(REVIEW)
    qtbot.waitUntil(lambda: window.screen(REVIEW) is not None)
    screen = window.screen(REVIEW)
    screen.form.reviewer.setText("rita")
    screen.start()
    ws = screen.workspace
    ws.setFocus()
    press(window, qtbot, "1")
    if source == "review_blind":
        press(window, qtbot, "A")  # decided: the next item is blind, the undo stack holds two steps
    assert (ws.holding is not None) == (source == "review_revealed")
    return screen, ws


def show_target(window, screen, target):
    if target == "setup page":
        screen.show_form()
    else:
        window.tabs.setCurrentIndex(TITLES.index(target))
    QApplication.processEvents()


def key_table(owner) -> list[str]:
    if hasattr(owner, "specs"):
        return [k for spec in owner.specs for k in spec.keys]
    return [s.toString() for a in owner.actions_by_id.values() for s in a.shortcuts()]


def state_of(owner):
    if not hasattr(owner, "specs"):  # Browse
        return owner.cursor.index if owner.cursor else None
    return (owner.session.current().pair.comparison_id, owner.holding is None, owner.undo_stack.index())


@pytest.mark.qt_log_ignore(*MENU_NOISE)
@pytest.mark.parametrize(("source", "target"), CASES)
def test_keys_of_a_hidden_screen_write_nothing(window, qtbot, store, source, target):
    screen, owner = start_source(window, qtbot, source)
    keys = key_table(owner)
    assert len(keys) >= 2
    before, state = writes(store), state_of(owner)
    show_target(window, screen, target)
    assert not owner.isVisible()
    for key in keys:
        press(window, qtbot, key)
        open_and_close_menu(window, qtbot)
        press(window, qtbot, key)
    assert writes(store) == before, f"a key of the hidden {source} screen wrote to the database"
    assert state_of(owner) == state
    # positive control: in front again, the same table acts
    if target == "setup page":
        screen.setCurrentWidget(owner)
    window.tabs.setCurrentIndex(window.tabs.indexOf(screen))
    owner.setFocus()
    QApplication.processEvents()
    press(window, qtbot, {"labelling": "Backspace", "review_blind": "Backspace",
                          "review_revealed": "A", "browse": "N"}[source])
    assert state_of(owner) != state
