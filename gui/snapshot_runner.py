"""Heavy recomputation off the GUI thread: one job in flight per target, stale results dropped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _JobSignals(QObject):
    done = Signal(int, object)  # generation, result
    failed = Signal(int, str)  # generation, message


class _Job(QRunnable):
    """Runs ``compute()`` on a pool thread and reports through its signals object."""

    def __init__(self, generation: int, compute: Callable[[], Any]) -> None:
        super().__init__()
        self.generation, self.compute = generation, compute
        self.signals = _JobSignals()

    def run(self) -> None:  # noqa: D102 (Qt override)
        try:
            try:
                result = self.compute()
            except Exception as exc:  # noqa: BLE001 (reported on the GUI thread)
                self.signals.failed.emit(self.generation, f"{type(exc).__name__}: {exc}")
            else:
                self.signals.done.emit(self.generation, result)
        except RuntimeError:  # the screen (and its runner) closed meanwhile: nobody waits
            return


class SnapshotRunner(QObject):
    """Computes snapshots for one target (a screen) on a thread pool.

    ``request(compute)`` supersedes every earlier request: at most one job runs at a time, a
    request made while one runs waits for it and only the newest waiting request is started,
    and a result that is no longer the newest request's is dropped.

    Signals
    -------
    ready(object)
        The result of the newest request (on the GUI thread).
    failed(str)
        The newest request raised (message with the exception type).
    """

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self.generation = 0  # of the newest request
        self.started = 0  # jobs started (tests and figures)
        self._running: _Job | None = None
        self._waiting: tuple[int, Callable[[], Any]] | None = None

    @property
    def busy(self) -> bool:
        """A job is running or waiting."""
        return self._running is not None or self._waiting is not None

    def request(self, compute: Callable[[], Any]) -> None:
        """Compute ``compute()`` off the GUI thread; earlier pending results become stale."""
        self.generation += 1
        self._waiting = (self.generation, compute)
        if self._running is None:
            self._start()

    def _start(self) -> None:
        if self._waiting is None:
            return
        generation, compute = self._waiting
        self._waiting = None
        job = _Job(generation, compute)
        job.setAutoDelete(False)  # kept in self._running until it reports
        job.signals.done.connect(self._done)
        job.signals.failed.connect(self._failed)
        self._running = job
        self.started += 1
        self.pool.start(job)

    def _finish(self) -> None:
        self._running = None
        self._start()

    def _done(self, generation: int, result: object) -> None:
        if generation == self.generation:
            self.ready.emit(result)
        self._finish()

    def _failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self.failed.emit(message)
        self._finish()
