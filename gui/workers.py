"""Background workers: a QRunnable per judge run, reporting through a separate signals QObject."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal

from tiebreak.core.judge import (
    CancelToken,
    ConfigError,
    JudgeError,
    JudgeOptions,
    Progress,
    run_judge,
)
from tiebreak.core.judge.batch import run_batch
from tiebreak.core.judge.client import redact
from tiebreak.core.metrics.lc_refresh import refresh_stale_lc
from tiebreak.core.sample import open_database


class JudgeWorkerSignals(QObject):
    """Signals of a JudgeWorker (emitted from the worker thread, delivered on the GUI thread).

    Signals
    -------
    progress(object)
        A :class:`tiebreak.core.judge.Progress` after each finished comparison.
    finished(object, int)
        The run's :class:`tiebreak.core.judge.Summary` and its run id (also after a cancel).
    failed(str)
        The run stopped on an error; the message never contains the API key.
    """

    progress = Signal(object)
    finished = Signal(object, int)
    failed = Signal(str)


class JudgeWorker(QRunnable):
    """Runs one judge (online or batch) on its own database connection, off the GUI thread."""

    def __init__(self, db_path: Path, options: JudgeOptions, api_key: str | None, *,
                 batch: bool = False, poll_interval: float = 30.0) -> None:  # fmt: skip
        super().__init__()
        self.setAutoDelete(False)  # the panel keeps it until `finished`/`failed`
        self.db_path, self.options, self._key = db_path, options, api_key
        self.batch, self.poll_interval = batch, poll_interval
        self.signals = JudgeWorkerSignals()
        self.cancel_token = CancelToken()

    def cancel(self) -> None:
        """Ask the run to stop; committed verdicts stay, in-flight calls are abandoned."""
        self.cancel_token.cancel()

    def _progress(self, p: Progress) -> None:
        self.signals.progress.emit(p)

    def run(self) -> None:
        """Thread entry point (QThreadPool)."""
        store = None
        try:
            store = open_database(self.db_path, sample=False)
            kwargs = {"api_key": self._key, "progress": self._progress, "cancel": self.cancel_token}
            if self.batch:
                summary, run_id = run_batch(store, self.options, poll_interval=self.poll_interval, **kwargs)
            else:
                summary, run_id = run_judge(store, self.options, **kwargs)
            if summary.finished > summary.failed and not summary.cancelled:
                refresh_stale_lc(store)  # committed verdicts: refit the LC panels they made stale (never raises)
        except (JudgeError, ConfigError) as exc:
            self.signals.failed.emit(redact(str(exc), self._key))
        except Exception as exc:  # noqa: BLE001 - shown in the panel, never a crash
            self.signals.failed.emit(f"{type(exc).__name__}: {redact(str(exc), self._key)}")
        else:
            self.signals.finished.emit(summary, run_id)
        finally:
            if store is not None:
                store.close()
