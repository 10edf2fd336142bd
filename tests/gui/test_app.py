"""The composition root and the main window: database opening, settings, font size, screens."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui._data import fill_store
from tests.gui.conftest import SPEC
from tiebreak.core.store import Store
from tiebreak.gui import screens
from tiebreak.gui.app import build_window, open_context
from tiebreak.gui.settings import Settings


def test_font_size_keys_and_window_state_are_kept(ctx, make_window, qtbot, settings):
    window = make_window(ctx)
    size = settings.font_size()
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert settings.font_size() == size + 1 and window.font().pointSize() == size + 1
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert settings.font_size() == size - 1
    window.resize(1111, 777)
    window.close()
    again = make_window(ctx, resize=False)
    # restored (within the platform's frame adjustment), not the 1400 x 900 default; the offscreen
    # screen is 800 px wide, so the platform may narrow the window down to its minimum width
    assert abs(again.height() - 777) <= 20
    assert min(1111, again.minimumSizeHint().width()) - 20 <= again.width() <= 1111 + 20
    assert again.font().pointSize() == size - 1


def test_every_menu_entry_has_a_key(ctx, make_window):
    window = make_window(ctx)
    for menu in window.menus.values():
        for action in menu.actions():
            if action.isSeparator() or action.menu() is not None:  # File ▸ Open recent: a submenu of paths
                continue
            assert action.shortcuts(), action.text()


def test_launch_asks_who_is_labelling_prefilled_and_enter_resumes(tmp_path, qtbot):
    from tiebreak.core.identity import database_id

    path = tmp_path / "tiebreak.sqlite"
    store = Store(path, create=True)
    fill_store(store)
    key = database_id(store)
    store.close()
    settings = Settings(tmp_path / "s.ini")
    settings.set_last_spec(SPEC, key)
    window = build_window(path, settings)
    qtbot.addWidget(window)
    screen = window.screen(0)
    assert screen.currentWidget() is screen.form and screen.workspace.session is None  # asks first
    assert screen.form.annotator.currentText() == "alice"
    qtbot.keyClick(screen.form.annotator.lineEdit(), Qt.Key.Key_Return)
    assert screen.currentWidget() is screen.workspace and screen.workspace.session.current() is not None
    assert screen.workspace.view.identity.text() == "Labelling as alice"
    assert "Labelling as alice" in window.statusBar().currentMessage()
    window.ctx.store.close()


def test_unopenable_database_is_an_error_page_not_a_crash(tmp_path, qtbot):
    (tmp_path / "dir.sqlite").mkdir()
    ctx, error = open_context(tmp_path / "dir.sqlite")
    assert ctx is None and "Could not open the database" in error and "dir.sqlite" in error
    window = build_window(tmp_path / "dir.sqlite", Settings(tmp_path / "s.ini"))
    qtbot.addWidget(window)
    assert window.tabs.tabText(0) == "Error"
    assert "Could not open the database" in window.statusBar().currentMessage()


def test_screen_registry_reports_import_and_constructor_errors(ctx):
    with pytest.raises(screens.ScreenError, match="tiebreak.gui.nowhere:X: ModuleNotFoundError"):
        screens.build_screen("tiebreak.gui.nowhere:X", ctx)
    with pytest.raises(screens.ScreenError, match="AttributeError"):
        screens.build_screen("tiebreak.gui.screens:NoSuchClass", ctx)
    assert all(":" in target for _title, target in screens.SCREENS)


def test_start_form_validates_and_creates_the_annotator(ctx, make_window, qtbot):
    window = make_window(ctx)
    screen = window.screen(0)
    screen.show_form()
    form = screen.form
    form.annotator.setCurrentText("")
    form.submit()
    assert "annotator name is empty" in form.message.text()
    form.annotator.setCurrentText("bob")
    with qtbot.waitSignal(form.start_requested):
        form.submit()
    assert screen.currentWidget() is screen.workspace
    assert ctx.store.conn.execute("SELECT kind, group_name FROM annotators WHERE name = 'bob'").fetchone() == (
        "human", "humans")


def test_window_has_the_tiebreak_icon(tmp_path, qtbot):
    from tiebreak.core.store import Store
    from tiebreak.gui.app import ICON

    Store(tmp_path / "t.sqlite", create=True).close()  # a named database is never created implicitly
    window = build_window(tmp_path / "t.sqlite", Settings(tmp_path / "s.ini"))
    qtbot.addWidget(window)
    icon = window.windowIcon()
    assert not icon.isNull() and ICON == "tiebreak.svg"
    image = icon.pixmap(64, 64).toImage()
    assert image.width() == 64 and len({image.pixel(x, y) for x in range(0, 64, 4) for y in range(0, 64, 4)}) > 3
    window.ctx.store.close()
