"""GUI work split into steps, one step per event-loop turn, so no single turn blocks the window long."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

#: Between two steps: a timer, not a posted event, so that due timers (animations, the app's own
#: polls) and input run between steps too; a chain of zero-delay calls starves them.
GAP_MS = 1


class Slices(QObject):
    """Runs queued steps on the GUI thread, one per event-loop turn (paints and input run between).

    A screen builds what it shows at once and queues the costly rest (a plot each, a list chunk
    each) here; ``finish()`` runs what is left at once when a result is needed now.

    Signals
    -------
    step_done(str)
        A step ran (its name).
    done()
        The queue ran empty.
    """

    step_done = Signal(str)
    done = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._steps: deque[tuple[str, Callable[[], object]]] = deque()
        self._scheduled = False
        self.ran: list[str] = []  # names of the steps run so far, in order (tests and figures)

    @property
    def busy(self) -> bool:
        """Steps are waiting."""
        return bool(self._steps)

    def add(self, name: str, step: Callable[[], object]) -> None:
        """Queue ``step`` (named ``name``); it runs on a later turn of the event loop."""
        self._steps.append((name, step))
        self._schedule()

    def finish(self) -> None:
        """Run every waiting step now (a caller needs their result at once)."""
        while self._steps:
            self._run_one()

    def _schedule(self) -> None:
        if self._steps and not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(GAP_MS, self, self._next)

    def _next(self) -> None:
        self._scheduled = False
        try:
            if self._steps:
                self._run_one()
        finally:  # a step that raised (reported by the app's error reporter) never stops the rest
            self._schedule()

    def _run_one(self) -> None:
        name, step = self._steps.popleft()
        step()
        self.ran.append(name)
        self.step_done.emit(name)
        if not self._steps:
            self.done.emit()
