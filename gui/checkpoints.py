"""Keep a GUI connection's write-ahead log short: copy it into the database off the GUI thread."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer

from tiebreak.core.sample import checkpoint_due
from tiebreak.gui.store_job import JobRunner

log = logging.getLogger("tiebreak.checkpoint")

#: The log is copied once no change was written for this long (a person reads between votes; a
#: copy beside a key press made the press wait).
IDLE_MS = 1000


def _checkpoint(store: Any) -> tuple[int, int]:
    return store.checkpoint()


class Checkpointer(QObject):
    """Watches one interactive connection (``open_interactive``, which never checkpoints).

    ``wrote()`` after each change. Once no change came for ``IDLE_MS``, after
    ``CHECKPOINT_CHANGES`` changes, a store job on its own connection copies the log (``PASSIVE``:
    writes go on meanwhile); after ``CHECKPOINT_BUSY_CHANGES`` it is copied at once. Without this
    a long session grows the log about 35 KB a label until the app closes. ``copies`` counts the
    finished copies (tests, benchmarks).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store: Any = None
        self.runner: JobRunner | None = None
        self.changes = 0  # committed since the log was last copied
        self.copies = 0
        self.last: tuple[int, int] | None = None  # (frames in the log, frames copied) of the last one
        self._copying = 0  # the changes the running copy covers
        self._timer = QTimer(self, singleShot=True, interval=IDLE_MS)
        self._timer.timeout.connect(self.run_if_due)

    @property
    def busy(self) -> bool:
        """A copy is running (benchmarks and tests wait for it)."""
        return self.runner is not None and self.runner.busy

    def watch(self, store: Any) -> None:
        """Look after ``store``'s log (a file database; in memory there is none)."""
        if store is self.store:
            return
        self.store, self.changes = store, 0
        self.runner = JobRunner(store, store.path, self) if store is not None and store.path is not None else None

    def wrote(self, *_args: object) -> None:
        """A change was written: copy the log once the user pauses (at once after very many)."""
        if self.runner is None:
            return
        self.changes += 1
        if not self.run_if_due(idle=False):
            self._timer.start()  # (again): the pause starts now

    def run_if_due(self, idle: bool = True) -> bool:
        """Start a copy when enough changes came and none runs; True when started."""
        if self.runner is None or self.runner.busy or not checkpoint_due(self.changes, idle=idle):
            return False
        self._copying = self.changes
        self.runner.run(_checkpoint, self._done, self._failed)
        return True

    def _done(self, result: tuple[int, int]) -> None:
        self.changes -= self._copying  # what came meanwhile waits for the next copy
        self.copies, self.last = self.copies + 1, result
        log.info("write-ahead log copied: %d of %d frames", result[1], result[0])

    def _failed(self, message: str) -> None:  # harmless: the log stays and the next pause retries
        log.warning("write-ahead log not copied: %s", message)
