"""The Judge panel's access row: API key (OS keyring only), Test connection, and the run estimate."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from tiebreak.core.judge.client import (
    KEYRING_SERVICE,
    KEYRING_USER,
    JudgeError,
    redact,
    resolve_api_key,
)
from tiebreak.core.judge.config import JudgeConfig
from tiebreak.core.judge.estimate import check_connection, estimate_run
from tiebreak.core.judge.job import JudgeOptions
from tiebreak.gui.store_job import JobRunner, Store

ESTIMATE_DELAY_MS = 250


def _keyring():
    """The keyring module, or None when it is not installed."""
    try:
        import keyring
    except ImportError:
        return None
    return keyring


def _keyring_installed() -> bool:
    """Whether keyring can be imported, without importing it (a quarter second: not on the panel's first show)."""
    if "keyring" in sys.modules:
        return sys.modules["keyring"] is not None
    return importlib.util.find_spec("keyring") is not None


class _ProbeSignals(QObject):
    done = Signal(bool, str)


class _Probe(QRunnable):
    def __init__(self, base_url: str | None, key: str | None, config: JudgeConfig) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.args, self.signals = (base_url, key, config), _ProbeSignals()

    def run(self) -> None:  # noqa: D102 - QThreadPool entry point
        try:
            self.signals.done.emit(True, check_connection(*self.args))
        except JudgeError as exc:
            self.signals.done.emit(False, redact(str(exc), self.args[1]))
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.signals.done.emit(False, redact(f"{type(exc).__name__}: {exc}", self.args[1]))


class JudgeAccess(QWidget):
    """API key field + Test connection + estimate line.

    The key typed here goes to the OS keyring (``keyring``) and nowhere else; without keyring it
    is kept in memory for this session only, and the field says so.

    Signals
    -------
    tested(bool, str)
        A connection test finished: success and its message.
    """

    tested = Signal(bool, str)
    estimated = Signal(str)

    def __init__(self, endpoint: Callable[[], tuple[str | None, JudgeConfig]], store: Store,
                 db_path: Path | None, parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.jobs = JobRunner(store, db_path, self)  # the estimate renders every prompt: off the GUI thread
        self._pending: tuple[JudgeOptions, bool] | None = None
        self._estimating = False
        self._debounce = QTimer(self, singleShot=True, interval=ESTIMATE_DELAY_MS)
        self._debounce.timeout.connect(self._next_estimate)
        self._endpoint, self._session_key, self._probe = endpoint, "", None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.key = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("API key (stored in the OS keyring)")
        self.key.editingFinished.connect(self.store_key)
        self.key_note = QLabel(wordWrap=True)
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test)
        self.result = QLabel(wordWrap=True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.estimate = QLabel(wordWrap=True)
        self.estimate.setObjectName("judgeEstimate")
        row = QHBoxLayout()
        row.addWidget(self.key, 1)
        row.addWidget(self.test_button)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        for w in (self.key_note, self.result, self.estimate):
            col.addWidget(w)
        col.insertLayout(0, row)
        self._describe_storage()

    def _describe_storage(self) -> None:
        if not _keyring_installed():
            self.key_note.setText("The keyring package is missing: a key typed here is used for this "
                                  "session only and never saved.")  # fmt: skip
        else:
            self.key_note.setText("A key typed here is saved in the OS keyring only "
                                  f"(service {KEYRING_SERVICE!r}); never in the database or settings.")  # fmt: skip

    @property
    def busy(self) -> bool:
        """An estimate is waiting (debounced) or running."""
        return self._estimating or self._pending is not None or self._debounce.isActive()

    def request_estimate(self, options: JudgeOptions, batch: bool) -> None:
        """Estimate the run in the background (the latest request wins; one job at a time)."""
        self._pending = (options, batch)
        if not self._estimating and not self._debounce.isActive():
            self._debounce.start()  # after the first paint, and once per burst of form edits

    def _next_estimate(self) -> None:
        if self._pending is None:
            self._estimating = False
            return
        (options, batch), self._pending, self._estimating = self._pending, None, True
        self.estimate.setText("Estimating the run…")
        self.jobs.run(lambda st: estimate_run(st, options, batch=batch).text(), self._estimated,
                      lambda m: self._estimated(f"No estimate: {m}"))  # fmt: skip

    def _estimated(self, text: str) -> None:
        if self._pending is None:  # else a newer request replaces this answer
            self.estimate.setText(text)
            self.estimated.emit(text)
        self._next_estimate()

    def store_key(self) -> None:
        """Move the typed key to the keyring (or this session's memory) and clear the field."""
        typed = self.key.text().strip()
        if not typed:
            return
        self.key.clear()
        kr = _keyring()
        if kr is not None:
            try:
                kr.set_password(KEYRING_SERVICE, KEYRING_USER, typed)
                self.key.setPlaceholderText("a key is saved in the OS keyring (type to replace it)")
                return
            except Exception as exc:  # noqa: BLE001 - a failing backend: session only, said so
                self.key_note.setText(f"The OS keyring refused the key ({type(exc).__name__}); "
                                      "it is used for this session only.")  # fmt: skip
        self._session_key = typed
        self.key.setPlaceholderText("a key is set for this session (not saved)")

    def api_key(self) -> str | None:
        """The key to use: typed this session, else the environment or the keyring."""
        self.store_key()
        return self._session_key or resolve_api_key()

    def test(self) -> None:
        """Send one cheap request in the background; the result shows under the button."""
        try:
            base_url, config = self._endpoint()
        except ValueError as exc:
            self._tested(False, str(exc))
            return
        self.test_button.setEnabled(False)
        self.result.setText("Testing…")
        self._probe = _Probe(base_url, self.api_key(), config)
        self._probe.signals.done.connect(self._tested)
        self.pool.start(self._probe)

    def _tested(self, ok: bool, message: str) -> None:
        self.test_button.setEnabled(True)
        self.result.setText(("✔ " if ok else "✘ ") + message)
        self.tested.emit(ok, message)
