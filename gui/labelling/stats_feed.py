"""The labelling screen's live statistics: the core object, built after the first paint.

All domain logic (which labels count, the SQL, the accumulators) lives in
``tiebreak.core.labelling.stats.LabellingStats``; this module only gets it loaded without
delaying the first paint (its imports run off the GUI thread).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from tiebreak.core.labelling.stats import LabellingStats as StatsFeed

__all__ = ["StatsFeed", "import_live_in_background"]


class _Signals(QObject):
    ready = Signal(object)  # the imported module, or the exception


class _ImportJob(QRunnable):
    """Import ``tiebreak.core.labelling.live`` off the GUI thread (kept off it so a cold disk cache
    never delays the first paint)."""

    def __init__(self) -> None:
        super().__init__()
        self.signals = _Signals()

    def run(self) -> None:  # noqa: D102 (Qt override)
        try:
            import tiebreak.core.labelling.live as module
        except Exception as exc:  # noqa: BLE001 (handed to the GUI thread, shown there)
            module = exc
        try:
            self.signals.ready.emit(module)
        except RuntimeError:  # the app closed before the import finished: nobody to tell
            pass


def import_live_in_background(receiver: QObject, on_ready) -> None:
    """Call ``on_ready(module_or_exception)`` on the GUI thread once ``tiebreak.core.labelling.live`` is imported."""
    job = _ImportJob()
    job.signals.setParent(None)
    job.signals.ready.connect(on_ready)
    receiver._live_import_job = job  # keep the signals object alive until it fires
    QThreadPool.globalInstance().start(job)
