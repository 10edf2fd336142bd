"""The File menu: new/open/recent databases, import (menu and drops), export and annotator packs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QProgressDialog, QWidget

from tiebreak.gui.settings import Settings

if TYPE_CHECKING:  # the importer and exporter load only when a file task runs (not at start-up)
    from tiebreak.gui import file_tasks

DB_FILTER = "Tiebreak databases (*.sqlite *.db *.sqlite3);;All files (*)"
IMPORT_FILTER = ("AlpacaEval and Tiebreak files (*.json *.jsonl *.csv *.gz);;"
                 "JSON (*.json *.json.gz);;JSONL (*.jsonl *.jsonl.gz);;CSV (*.csv *.csv.gz);;All files (*)")  # fmt: skip
#: Export formats as the save dialog offers them: (filter, format, extension).
EXPORT_FILTERS = (
    ("AlpacaEval annotations (*.json)", "alpaca-eval", ".json"),
    ("Cross-annotations (*.json)", "cross-annotations", ".json"),
    ("CSV table (*.csv)", "csv", ".csv"),
    ("JSON lines (*.jsonl)", "jsonl", ".jsonl"),
)


def _on_yes(box: QMessageBox, then: Callable[[], None]) -> None:
    """Call ``then`` when the box's Yes button is clicked."""

    def clicked(button: Any) -> None:
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:
            then()

    box.buttonClicked.connect(clicked)


class Host(Protocol):
    """What the controller needs from the main window."""

    ctx: Any
    settings: Settings

    def switch_database(self, path: Path, *, create: bool = False) -> bool: ...  # noqa: D102
    def show_status(self, message: str) -> None: ...  # noqa: D102


class FileController(QObject):
    """Owns the File menu entries and runs file work off the GUI thread with a progress dialog.

    ``last_message`` / ``last_error`` hold what the user was last told (tests read them);
    ``dialog`` is the open confirmation or result box, if any.
    """

    def __init__(self, window: QWidget, menu: QMenu) -> None:
        super().__init__(window)
        self.window: Any = window
        self.tasks: list[file_tasks.FileTask] = []
        self.progress: QProgressDialog | None = None
        self.dialog: QMessageBox | None = None
        self.last_message = self.last_error = ""
        self.pack_windows: list[QWidget] = []
        self.actions: dict[str, QAction] = {}
        first = menu.actions()[0]  # the File menu's own entries (New session…, Quit) follow ours
        for key, text, shortcut, slot in (
            ("new_db", "New database…", "Ctrl+Shift+N", self.new_database),
            ("open_db", "Open database…", "Ctrl+O", self.open_database),
            ("import", "Import…", "Ctrl+I", self.import_dialog),
            ("export", "Export…", "Ctrl+E", self.export_dialog),
            ("open_pack", "Open annotator pack…", "Ctrl+Shift+O", self.open_pack),
        ):
            action = QAction(text, window)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _c=False, s=slot: s())
            menu.insertAction(first, action)
            self.actions[key] = action
            if key == "open_db":
                self.recent_menu = QMenu("Open recent", window)
                menu.insertMenu(first, self.recent_menu)
        menu.insertSeparator(first)
        self.refresh()

    # -- state --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Enable what needs an open database; rebuild the recent list."""
        has_db = self.window.ctx is not None
        for key in ("import", "export"):
            self.actions[key].setEnabled(has_db)
        self.recent_menu.clear()
        for path in self.window.settings.recent_databases():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.window.switch_database(Path(p)))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    def tell(self, text: str, error: bool = False) -> None:
        """Say ``text`` in the status bar and in a message box (an error when ``error``)."""
        if error:
            self.last_error = text
        else:
            self.last_message = text
        self.window.show_status(text.splitlines()[0] if text else "")
        icon = QMessageBox.Icon.Critical if error else QMessageBox.Icon.Information
        self._box(icon, "Tiebreak", text, QMessageBox.StandardButton.Ok).open()

    def _box(self, icon: QMessageBox.Icon, title: str, text: str, buttons: Any) -> QMessageBox:
        self.dialog = QMessageBox(icon, title, text, buttons, self.window)
        self.dialog.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return self.dialog

    # -- databases ----------------------------------------------------------------------------
    def new_database(self) -> None:
        """Ask for a new file name and create an empty database there."""
        path, _ = QFileDialog.getSaveFileName(self.window, "New database", "tiebreak.sqlite", DB_FILTER,
                                              options=QFileDialog.Option.DontConfirmOverwrite)  # fmt: skip
        if path:
            self.window.switch_database(Path(path), create=True)

    def open_database(self) -> None:
        """Ask for a database file and open it."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open database", "", DB_FILTER)
        if path:
            self.window.switch_database(Path(path))

    def open_pack(self) -> QWidget | None:
        """Ask for an annotator pack and open it in a crowd-mode window."""
        from tiebreak.gui.crowd_labelling import open_pack_window

        window = open_pack_window(self.window)
        if window is not None:
            self.pack_windows.append(window)
        return window

    # -- import -------------------------------------------------------------------------------
    def import_dialog(self) -> None:
        """Ask for files and import them."""
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Import", "", IMPORT_FILTER)
        if paths:
            self.import_paths(paths)

    def import_paths(self, paths: Sequence[str | Path]) -> None:
        """Import ``paths`` in one transaction, off the GUI thread, with a progress dialog."""
        self._run("Importing", _tasks().import_task(list(paths)), self._imported)

    def confirm_drop(self, paths: Sequence[str | Path]) -> None:
        """Dry-run the dropped files, list what they would add, import them when confirmed."""
        self._run("Reading the dropped files", _tasks().preview_task(list(paths)), self._ask_drop)

    def _ask_drop(self, result: tuple[Any, list[Any]]) -> None:
        report, parsed = result
        box = self._box(QMessageBox.Icon.Question, "Import dropped files",
                        "Import these files?\n\n" + _tasks().describe(report),
                        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)  # fmt: skip
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        _on_yes(box, lambda: self._run("Importing", _tasks().import_task(parsed=parsed), self._imported))
        box.open()

    def _imported(self, report: Any) -> None:
        if self.window.ctx is not None:
            self.window.ctx.events.annotations_changed.emit(None)  # screens reload
        self.tell("Imported.\n\n" + _tasks().describe(report))

    # -- export -------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        """Ask for a file and a format (the file type), then export every live annotation."""
        filters = ";;".join(f for f, _, _ in EXPORT_FILTERS)
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export annotations", "annotations.json", filters,
                                                   options=QFileDialog.Option.DontConfirmOverwrite)  # fmt: skip
        if path:
            fmt, ext = next(((f, e) for name, f, e in EXPORT_FILTERS if name == chosen), ("alpaca-eval", ".json"))
            self.export_to(Path(path if Path(path).suffix else path + ext), fmt)

    def export_to(self, path: Path, fmt: str) -> None:
        """Export to ``path``; an existing file is replaced only after the user says so."""
        if not path.exists():
            self._run("Exporting", _tasks().export_task(path, fmt, force=False), self._exported(path))
            return
        box = self._box(QMessageBox.Icon.Warning, "Replace file?",
                        f"{path} already exists. Replace it?",
                        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)  # fmt: skip
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        _on_yes(box, lambda: self._run("Exporting", _tasks().export_task(path, fmt, force=True),
                                       self._exported(path)))  # fmt: skip
        box.open()

    def _exported(self, path: Path) -> Callable[[Any], None]:
        return lambda count: self.tell(f"Exported {count} annotations to {path}.")

    # -- running ------------------------------------------------------------------------------
    def busy(self) -> bool:
        """True while a file task runs."""
        return bool(self.tasks)

    def _run(self, title: str, fn: file_tasks.TaskFn, on_done: Callable[[Any], None]) -> None:
        ctx = self.window.ctx
        if ctx is None:
            self.tell("No database is open: use File ▸ New database… or Open database… first.", error=True)
            return
        if ctx.db_path is None:  # an in-memory database has no second connection: run here
            try:
                on_done(fn(ctx.store, lambda *_: None))
            except Exception as exc:  # noqa: BLE001 (shown to the user)
                self.tell(str(exc), error=True)
            return
        self.progress = QProgressDialog(title + "…", "", 0, 0, self.window)
        self.progress.setCancelButton(None)  # one transaction: it completes or changes nothing
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(200)
        task = _tasks().FileTask(Path(ctx.db_path), fn)
        task.signals.progress.connect(self._step)
        task.signals.done.connect(lambda result: self._finish(task, on_done, result))
        task.signals.failed.connect(lambda message: self._finish(task, self._failed, message))
        self.tasks.append(task)
        _tasks().start(task)

    def _step(self, done: int, total: int, what: str) -> None:
        dialog = self.progress  # setValue may process events, finishing the task meanwhile
        if dialog is not None:
            dialog.setLabelText(what)
            dialog.setMaximum(total)
            dialog.setValue(done)

    def _finish(self, task: _tasks().FileTask, then: Callable[[Any], None], value: Any) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
        if self.progress is not None:
            self.progress.reset()
            self.progress.deleteLater()
            self.progress = None
        then(value)

    def _failed(self, message: str) -> None:
        self.tell(message + "\n\nNothing was changed.", error=True)


def _tasks() -> Any:
    """The file-task module (importer, exporter), imported on first use."""
    from tiebreak.gui import file_tasks

    return file_tasks
