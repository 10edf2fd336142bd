"""Run a function of the database off the GUI thread, on its own connection (reads, and derived caches only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from shiboken6 import isValid

from tiebreak.core.sample import open_database

Store = Any  # the GUI does not import tiebreak.core.store (layers contract): a connection object


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)


class StoreJob(QRunnable):
    """``fn(store)`` on a new connection to ``db_path``; ``signals.done(result)`` / ``failed(message)``."""

    def __init__(self, db_path: Path, fn: Callable[[Store], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the caller keeps it until done/failed
        self.db_path, self.fn, self.signals = db_path, fn, _Signals()

    def run(self) -> None:  # noqa: D102 - QThreadPool entry point
        try:
            store = open_database(self.db_path)
            try:
                result = self.fn(store)
            finally:
                store.close()
        except Exception as exc:  # noqa: BLE001 - shown on the screen, never a crash
            self.signals.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.signals.done.emit(result)


class JobRunner(QObject):
    """Starts store jobs one at a time; an in-memory database runs them on the GUI thread (next turn)."""

    def __init__(self, store: Store, db_path: Path | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store, self.db_path = store, db_path
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._alive: set[StoreJob] = set()

    @property
    def busy(self) -> bool:
        """A job is running or waiting (benchmarks and tests)."""
        return bool(self._alive)

    def run(self, fn: Callable[[Store], Any], done: Callable[[Any], None], failed: Callable[[str], None]) -> None:
        """Compute ``fn(store)`` and call ``done(result)`` or ``failed(message)`` on the GUI thread."""
        if self.db_path is None:
            QTimer.singleShot(0, self, lambda: self._here(fn, done, failed))
            return
        job = StoreJob(Path(self.db_path), fn)
        self._alive.add(job)
        job.signals.done.connect(lambda r, j=job: self._deliver(j, done, r))
        job.signals.failed.connect(lambda m, j=job: self._deliver(j, failed, m))
        self.pool.start(job)

    def _deliver(self, job: StoreJob, callback: Callable[[Any], None], value: Any) -> None:
        """Hand a result over unless the owner (and this runner) was destroyed meanwhile."""
        if isValid(self):
            self._alive.discard(job)
            callback(value)

    def _here(self, fn: Callable[[Store], Any], done: Callable[[Any], None], failed: Callable[[str], None]) -> None:
        try:
            result = fn(self.store)
        except Exception as exc:  # noqa: BLE001 - shown on the screen, never a crash
            failed(f"{type(exc).__name__}: {exc}")
        else:
            done(result)

    def wait(self, msecs: int = 30_000) -> bool:
        """Wait for the running job (tests, closing)."""
        return self.pool.waitForDone(msecs)
