"""The GUI's one error boundary: expected errors as messages, bugs logged and pointed to the log."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import (
    QMessageLogContext,
    QObject,
    Qt,
    QtMsgType,
    Signal,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QMessageBox, QWidget

from tiebreak.core.errors import TiebreakError
from tiebreak.core.logs import log_unexpected

__all__ = ["ErrorReporter", "qt_message_handler", "report"]

qt_log = logging.getLogger("tiebreak.qt")

_installed: list[ErrorReporter] = []  # the installed reporters, innermost last

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def qt_message_handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Send one Qt message (``qWarning`` and co.) to the log, with its category and source."""
    where = f" ({context.file}:{context.line})" if context.file else ""
    category = context.category or "qt"
    qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s: %s%s", category, message, where)


def report(exc: BaseException, where: str = "") -> None:
    """Hand ``exc`` to the app's reporter (what a screen calls instead of its own ``except``).

    Without an installed reporter (tests, the benchmark) a bug is still logged with its
    traceback; an expected error is logged as shown.
    """
    if _installed:
        _installed[-1].report(exc, where)
    elif isinstance(exc, TiebreakError):
        logging.getLogger("tiebreak").info("error (no reporter installed): %s", exc)
    else:
        log_unexpected(exc, where)


class ErrorReporter(QObject):
    """Shows what went wrong: a TiebreakError's message, or for a bug, where the log is.

    :meth:`install` makes it the target of ``sys.excepthook`` (PySide6 hands exceptions raised in
    slots and event handlers there) and ``threading.excepthook``, and routes Qt's messages to the
    log; :meth:`uninstall` restores them. An error raised on another thread is shown on the GUI
    thread (a queued signal). One dialog at a time: further errors are counted in it.
    """

    _incoming = Signal(object, str)  # (exception, where): queued when raised off the GUI thread

    def __init__(self, window: QWidget | None, log_file: Path) -> None:
        super().__init__(window)
        self.parent_window, self.log_file = window, Path(log_file)
        self.dialog: QMessageBox | None = None
        self.reported = 0
        self._more = 0
        self._previous_hook: Any = None
        self._previous_thread_hook: Any = None
        self._previous_qt: Any = None
        self._installed = False
        self._incoming.connect(self.report)

    # -- install ------------------------------------------------------------------------
    def install(self) -> ErrorReporter:
        """Become ``sys.excepthook`` and install the Qt message handler (chained to any earlier one)."""
        self._previous_hook, self._previous_thread_hook = sys.excepthook, threading.excepthook
        sys.excepthook = self._hook
        threading.excepthook = self._thread_hook
        self._previous_qt = qInstallMessageHandler(self._qt_message)
        self._installed = True
        _installed.append(self)
        return self

    def uninstall(self) -> None:
        """Put back the excepthook and Qt message handler that were there before :meth:`install`."""
        if not self._installed:
            return
        sys.excepthook, threading.excepthook = self._previous_hook, self._previous_thread_hook
        qInstallMessageHandler(self._previous_qt)
        self._installed = False
        _installed.remove(self)

    def _qt_message(self, mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        qt_message_handler(mode, context, message)
        if self._previous_qt is not None:  # e.g. pytest-qt's capture in tests
            self._previous_qt(mode, context, message)

    def _hook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        self._incoming.emit(exc if exc.__traceback__ is not None else exc.with_traceback(tb), "a slot")

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "?"
        self._incoming.emit(args.exc_value.with_traceback(args.exc_traceback), f"thread {name}")

    # -- report -------------------------------------------------------------------------
    def report(self, exc: BaseException, where: str = "") -> None:
        """Show ``exc``: a TiebreakError's own message; anything else is logged and the log named."""
        self.reported += 1
        if isinstance(exc, TiebreakError):
            logging.getLogger("tiebreak").info("shown to the user: %s", exc)
            self._show(QMessageBox.Icon.Warning, "Tiebreak", str(exc))
            return
        log_unexpected(exc, where)
        self._show(
            QMessageBox.Icon.Critical,
            "Tiebreak: unexpected error",
            f"Something went wrong that Tiebreak did not expect ({type(exc).__name__}: {exc}).\n\n"
            f"The details were written to the log:\n{self.log_file}\n\n"
            "Your labels so far are saved. Please attach the log when you report this.",
        )

    def _show(self, icon: QMessageBox.Icon, title: str, text: str) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self._more += 1
            self.dialog.setInformativeText(f"{self._more} more error(s) since; see the log {self.log_file}")
            return
        self._more = 0
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.parent_window)
        box.setObjectName("errorReporterDialog")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()  # window-modal, not blocking: the event loop (and the labels) go on
        self.dialog = box

