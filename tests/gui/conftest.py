"""Fixtures for the GUI tests: settings in tmp_path, a filled store, the main window."""

from __future__ import annotations

import pytest

from tests.gui._data import CANDIDATES, REFERENCE, fill_store
from tiebreak.core.labelling.session import QueueSpec

SPEC = QueueSpec("alice", REFERENCE, CANDIDATES)
#: The offscreen platform plugin warns whenever a window's minimum size changes (layout noise).
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def pytest_collection_modifyitems(items):
    """Ignore only the offscreen plugin's size-hint notice; every other Qt warning still fails."""
    for item in items:
        if "tests/gui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture
def settings(tmp_path):
    """App settings in an INI file under tmp_path, installed app-wide."""
    from tiebreak.gui import settings as app_settings

    s = app_settings.Settings(tmp_path / "settings.ini")
    app_settings.install(s)
    yield s
    app_settings.install(app_settings.Settings(tmp_path / "settings-after.ini"))


@pytest.fixture
def ctx(store):
    """An AppContext over a small in-memory database (4 instructions x 2 candidates, a judge)."""
    from tiebreak.core.identity import show_pooled_statistics
    from tiebreak.gui.context import AppContext

    fill_store(store)
    show_pooled_statistics(store, True)  # the statistics tests need them (labellers' default: off)
    return AppContext(store=store, db_path=None)


@pytest.fixture
def make_window(qtbot, settings):
    """Factory: the main window over a context, shown and exposed (labelling screen only)."""
    from PySide6.QtWidgets import QApplication

    from tiebreak.gui.main_window import MainWindow

    def make(ctx, screens=(("Labelling", "tiebreak.gui.labelling.screen:LabellingScreen"),), error=None,
             resize=True):
        window = MainWindow(ctx, settings, screens=list(screens), error=error)
        qtbot.addWidget(window)
        if resize:
            window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        return window

    return make


@pytest.fixture
def workspace(ctx, make_window, qtbot):
    """The workspace of a started session for alice, statistics loaded."""
    window = make_window(ctx)
    screen = window.screen(0)
    assert screen.start(SPEC)
    ws = screen.workspace
    qtbot.waitUntil(lambda: ws.stats_feed is not None or "unavailable" in ws.view.stats.status.text())
    ws.setFocus()
    return ws


@pytest.fixture
def file_labelling(tmp_path, make_window):
    """Factory: alice's session started on a new file database -> (path, window, labelling screen)."""
    from tiebreak.core.store import Store
    from tiebreak.gui.context import AppContext

    def start(name: str = "labels.tiebreak", n_instructions: int = 4):
        path = tmp_path / name
        store = Store(path, create=True)
        fill_store(store, n_instructions=n_instructions)
        window = make_window(AppContext(store=store, db_path=path))
        screen = window.screen(0)
        assert screen.start(SPEC)
        return path, window, screen

    return start
