"""The GUI's error reporter: a bug in a slot lands in the log and the dialog says where the log is."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, qInfo
from PySide6.QtWidgets import QMessageBox, QPushButton

from tiebreak.core.logs import setup_logging
from tiebreak.core.store import UnknownName
from tiebreak.gui.reporter import ErrorReporter, report


@pytest.fixture
def reporter(tmp_path: Path, qtbot):
    log_file = setup_logging(tmp_path / "logs" / "gui.log")
    window = QPushButton("parent window")
    qtbot.addWidget(window)
    window.show()
    hook_before = sys.excepthook
    rep = ErrorReporter(window, log_file).install()
    yield rep
    rep.uninstall()
    assert sys.excepthook is hook_before
    if rep.dialog is not None:
        rep.dialog.close()


def _button_raising(qtbot, exc: BaseException) -> QPushButton:
    button = QPushButton("go")
    qtbot.addWidget(button)

    def slot() -> None:
        raise exc

    button.clicked.connect(slot)
    button.show()
    return button


@pytest.mark.qt_no_exception_capture
def test_unexpected_error_in_a_slot_is_logged_and_the_dialog_names_the_log(reporter, qtbot) -> None:
    button = _button_raising(qtbot, ZeroDivisionError("division by zero in a slot"))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    text = reporter.log_file.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "ZeroDivisionError: division by zero in a slot" in text
    assert "in slot" in text  # the slot's own frame is in the traceback
    dialog = reporter.dialog
    assert dialog.icon() == QMessageBox.Icon.Critical
    assert str(reporter.log_file) in dialog.text() and "ZeroDivisionError" in dialog.text()
    # a second bug while the dialog is open: counted in it, no second dialog
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert reporter.dialog is dialog and "1 more error" in dialog.informativeText()
    assert reporter.log_file.read_text(encoding="utf-8").count("ZeroDivisionError: division") == 2


@pytest.mark.qt_no_exception_capture
def test_expected_error_shows_its_message_without_a_traceback(reporter, qtbot) -> None:
    button = _button_raising(qtbot, UnknownName("unknown generator 'nope' (known: a, b)"))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    assert reporter.dialog.icon() == QMessageBox.Icon.Warning
    assert reporter.dialog.text() == "unknown generator 'nope' (known: a, b)"
    assert "Traceback" not in reporter.log_file.read_text(encoding="utf-8")


def test_qt_messages_go_to_the_log(reporter) -> None:
    logging.getLogger("tiebreak").setLevel(logging.INFO)
    qInfo("a message from Qt's own logging")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "a message from Qt's own logging" in reporter.log_file.read_text(encoding="utf-8")


def test_screens_hand_errors_to_the_installed_reporter(reporter, tmp_path: Path) -> None:
    try:
        raise KeyError("caught in a screen")
    except KeyError as exc:
        report(exc, "the browse screen")
    assert reporter.dialog is not None and "KeyError" in reporter.dialog.text()
    assert "in the browse screen" in reporter.log_file.read_text(encoding="utf-8")
    reporter.uninstall()
    report(RuntimeError("after uninstall"), "a test")  # no reporter: logged all the same
    assert "RuntimeError: after uninstall" in reporter.log_file.read_text(encoding="utf-8")


def test_an_error_on_another_thread_is_shown_on_the_gui_thread(reporter, qtbot) -> None:
    def work() -> None:
        raise OSError("disk went away in a worker")

    worker = threading.Thread(target=work, name="worker-1")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    assert reporter.dialog.thread() is reporter.thread()  # built on the GUI thread
    assert "OSError" in reporter.dialog.text()
    assert "in thread worker-1" in reporter.log_file.read_text(encoding="utf-8")
