"""The main window: tabs from the screen registry, menus from the action tables, status bar.

Keys reach only the screen in front: each screen's actions are enabled only while it is shown
(``ShownOnly`` in the action table), and a closed menu gives the focus back to that screen.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QTabWidget, QWidget

from tiebreak.gui import screens as registry
from tiebreak.gui.context import AppContext
from tiebreak.gui.files import FileController
from tiebreak.gui.labelling.actions import APP_ACTIONS, make_actions
from tiebreak.gui.screen_loader import ScreenLoader, placeholder
from tiebreak.gui.settings import DEFAULT_FONT_PT, Settings

#: A deferred build starts this long after the placeholder went up (it is painted first).
DEFER_MS = 15
MENU_ORDER = ("&File", "&Label", "&Edit", "&View", "&Go", "&Help")
#: The screen that shows what another screen's ``browse_requested(dict)`` asks for.
BROWSE_TARGET = "tiebreak.gui.browse:BrowseScreen"


class MainWindow(QMainWindow):
    """Lays out and wires; holds no labelling logic (screens do)."""

    def __init__(
        self,
        ctx: AppContext | None,
        settings: Settings,
        *,
        screens: list[tuple[str, str]] | None = None,
        error: str | None = None,
        file_menu: bool = True,
    ) -> None:
        super().__init__()
        self.ctx, self.settings = ctx, settings
        self.setWindowTitle("Tiebreak" + (f" — {ctx.db_path}" if ctx and ctx.db_path else ""))
        self.app_specs = APP_ACTIONS
        self.menus: dict[str, QMenu] = {}
        for name in MENU_ORDER:
            self._menu(name)
        self.app_actions = make_actions(APP_ACTIONS, self, self._app_action, Qt.ShortcutContext.WindowShortcut)
        for spec in APP_ACTIONS:
            self._menu(spec.menu).addAction(self.app_actions[spec.id])
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self._entries = list(registry.SCREENS if screens is None else screens)
        self._built: dict[int, QWidget] = {}
        self._added: list[tuple[QMenu, QAction]] = []  # Go entries and screens' actions (per database)
        self._browse_pending: dict | None = None  # a browse request waiting for the Browse screen
        self.statusBar().setSizeGripEnabled(True)
        self.files = FileController(self, self._menu("&File")) if file_menu else None
        self.loader = ScreenLoader(self)
        #: Show a screen's "Loading…" page before building it even when its module is imported
        #: (the app does; tests build at once unless they turn it on).
        self.defer_builds = False
        self._closed = False
        self.setAcceptDrops(file_menu)
        self.tabs.currentChanged.connect(self._ensure_built)
        self._populate(error)
        self.set_font_size(settings.font_size())
        self._restore()

    def _populate(self, error: str | None) -> None:
        """Fill the tabs for ``self.ctx`` (or one error page offering Open… and New…)."""
        if self.ctx is not None:
            self.ctx.events.status_message.connect(self.show_status)
        if error or self.ctx is None:
            files = self.files
            buttons = [("Open database…", files.open_database), ("New database…", files.new_database)] if files else []
            hint = "Open an existing database or create a new one (also in the File menu)."
            page = registry.error_page(error or "No database is open.", hint=hint,
                                       buttons=buttons)  # fmt: skip
            self.tabs.addTab(page, "Error")
            self.show_status(error or "No database is open.")
        else:
            self._add_tabs()

    # -- screens ------------------------------------------------------------------------------
    def _add_tabs(self) -> None:
        for index, (title, _target) in enumerate(self._entries):
            self.tabs.addTab(QWidget(), title)  # placeholder until first shown
            go = QAction(title, self)
            go.setShortcut(QKeySequence(f"Alt+{index + 1}"))
            go.triggered.connect(lambda _c=False, i=index: self.tabs.setCurrentIndex(i))
            self._add_to_menu("&Go", go)
        self._build(0)  # the first screen is built at once (start-up shows it)

    def _ensure_built(self, index: int) -> None:
        """Build the screen of tab ``index`` on first show (errors become an error page).

        When its module is not imported yet, a placeholder shows while a pool thread imports it;
        the screen is built (on the GUI thread) once the import is done.
        """
        if index < 0 or index in self._built or index >= len(self._entries) or self.ctx is None:
            return
        title, target = self._entries[index]
        if self.loader.ready(target) and not self.defer_builds:
            self._build(index)
            return
        if self.tabs.widget(index).objectName() != "loadingPage":
            self._place(index, placeholder(title), title)
        ctx = self.ctx

        def build() -> None:  # after the placeholder is painted (a screen's own reads may block)
            # the window is the timer's context: a window deleted meanwhile cancels the build
            QTimer.singleShot(DEFER_MS, self, lambda: self.ctx is ctx and not self._closed and self._build(index))

        self.loader.load(target, build)

    def _build(self, index: int) -> None:
        if index in self._built or index >= len(self._entries):
            return
        title, target = self._entries[index]
        try:
            widget = registry.build_screen(target, self.ctx)
        except registry.ScreenError as exc:
            widget = registry.error_page(str(exc), exc.__cause__)
            self.show_status(str(exc))
        self._built[index] = widget
        if hasattr(widget, "browse_requested"):
            widget.browse_requested.connect(self.open_browse)
        if target == BROWSE_TARGET and self._browse_pending is not None:
            widget.apply_browse(self._browse_pending)  # type: ignore[attr-defined]
            self._browse_pending = None
        current = self.tabs.currentIndex() == index
        self._place(index, widget, title)
        for menu, action in getattr(widget, "menu_actions", lambda: [])():
            self._add_to_menu(menu, action)
        if hasattr(widget, "menu_actions_added"):  # entries a screen adds once it built a part later
            widget.menu_actions_added.connect(self._add_screen_actions)
        if current:
            widget.setFocus()

    def _place(self, index: int, widget: QWidget, title: str) -> None:
        """Put ``widget`` in tab ``index`` (the current tab stays current)."""
        current = self.tabs.currentIndex()
        blocked = self.tabs.blockSignals(True)
        old = self.tabs.widget(index)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, title)
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(blocked)
        old.deleteLater()

    def open_browse(self, browse: dict) -> None:
        """Show the Browse tab filtered as ``browse`` asks (a click on a plot, a cell, a bar)."""
        index = next((k for k, (_t, target) in enumerate(self._entries) if target == BROWSE_TARGET), None)
        if index is None:
            self.show_status("Browse is not available in this window")
            return
        if index in self._built:
            self._built[index].apply_browse(browse)  # type: ignore[attr-defined]
        else:
            self._browse_pending = browse  # applied when the screen is built
        self.tabs.setCurrentIndex(index)

    def screen(self, index: int = 0) -> QWidget | None:
        """The built screen of tab ``index`` (None if not built yet)."""
        return self._built.get(index)

    def _add_screen_actions(self, entries: list[tuple[str, QAction]]) -> None:
        for menu, action in entries:
            self._add_to_menu(menu, action)

    def _add_to_menu(self, name: str, action: QAction) -> None:
        self._menu(name).addAction(action)
        self._added.append((self._menu(name), action))

    def _menu(self, name: str) -> QMenu:
        if name not in self.menus:
            self.menus[name] = self.menuBar().addMenu(name)
            self.menus[name].aboutToHide.connect(self._refocus)
        return self.menus[name]

    def _refocus(self) -> None:
        """After a menu closes, keys go back to the screen in front (never to a hidden one)."""
        QTimer.singleShot(0, lambda: self.tabs.currentWidget() and self.tabs.currentWidget().setFocus())

    # -- window-level actions -----------------------------------------------------------------
    def show_status(self, message: str) -> None:
        """Put a message in the status bar (kept until the next one)."""
        self.statusBar().showMessage(message)

    def _app_action(self, action_id: str) -> None:
        if action_id == "quit":
            self.close()
        elif action_id == "new_session":
            first = self.screen(0)
            if hasattr(first, "show_form"):
                self.tabs.setCurrentIndex(0)
                first.show_form()
        elif action_id in ("font_bigger", "font_smaller"):
            step = 1 if action_id == "font_bigger" else -1
            self.set_font_size(self.settings.set_font_size(self.settings.font_size() + step))
        elif action_id == "font_reset":
            self.set_font_size(self.settings.set_font_size(DEFAULT_FONT_PT))

    def set_font_size(self, points: int) -> None:
        """Apply a font size to the whole window (outputs included)."""
        font = self.font()
        font.setPointSize(points)
        self.setFont(font)
        if self.isVisible():
            self.show_status(f"Text size {points} pt")

    # -- databases ----------------------------------------------------------------------------
    def switch_database(self, path: Path, *, create: bool = False) -> bool:
        """Open (or with ``create`` make) the database at ``path`` and rebuild every screen on it.

        On failure the current database stays open and the reason is shown; returns success.
        """
        from tiebreak.core.sample import create_database, open_database

        try:
            store = create_database(path) if create else open_database(path)
        except Exception as exc:  # noqa: BLE001 (a StoreError says why; anything else is shown too)
            message = f"Could not {'create' if create else 'open'} the database {path}: {exc}"
            if self.files is not None:
                self.files.tell(message, error=True)
            return False
        self.set_context(AppContext(store=store, db_path=Path(path)))
        self.settings.add_recent_database(path)
        if self.files is not None:
            self.files.refresh()
        self.show_status(f"Opened {path}")
        return True

    def set_context(self, ctx: AppContext) -> None:
        """Replace the open database: close sessions, drop the screens, build them on ``ctx``."""
        old = self.ctx
        self._close_sessions()
        blocked = self.tabs.blockSignals(True)
        while self.tabs.count():
            widget = self.tabs.widget(0)
            self.tabs.removeTab(0)
            if widget is not None:
                widget.deleteLater()
        for menu, action in self._added:
            menu.removeAction(action)
        self._added.clear()
        self._built.clear()
        self._browse_pending = None
        self.ctx = ctx
        self.setWindowTitle(f"Tiebreak — {ctx.db_path}" if ctx.db_path else "Tiebreak")
        self._populate(None)
        self.tabs.blockSignals(blocked)
        self._build(0)  # the first screen is built at once (start-up shows it)
        if old is not None:  # after the old screens are gone (their timers die with them)
            QTimer.singleShot(0, old.store.close)

    # -- drag and drop --------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        """Accept local files while a database is open."""
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if self.ctx is not None and urls and all(u.isLocalFile() for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Dropped files are imported after a confirmation listing what they add."""
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.files is not None:
            event.acceptProposedAction()
            self.files.confirm_drop(paths)

    # -- window state -------------------------------------------------------------------------
    def _restore(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Save the window state (and close any labelling session) before closing."""
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self._closed = True  # a screen whose module is still importing is not built any more
        self._close_sessions()
        super().closeEvent(event)

    def _close_sessions(self) -> None:
        for widget in self._built.values():
            # a screen that builds its workspace on first use says whether it did (closing never builds one)
            ws = widget.built_workspace if hasattr(widget, "built_workspace") else getattr(widget, "workspace", None)
            session = getattr(ws, "session", None)
            if session is not None:
                try:
                    session.close()
                except Exception as exc:  # noqa: BLE001 (closing must not crash)
                    self.show_status(f"could not stamp the session end: {exc}")
