"""File work off the GUI thread: read, preview, import and export on the task's own connection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from tiebreak.core.errors import TiebreakError
from tiebreak.core.formats import ParsedFile, read_file
from tiebreak.core.formats.exporter import export_annotations
from tiebreak.core.formats.importer import ImportReport, import_parsed, preview_parsed
from tiebreak.core.metrics.lc_refresh import LcRefresh, refresh_stale_lc
from tiebreak.core.sample import open_database

#: ``progress(done, total, what)``: a step of a task.
ProgressFn = Callable[[int, int, str], None]
#: A task body: ``fn(store, progress) -> result``.
TaskFn = Callable[[Any, ProgressFn], Any]


class _TaskSignals(QObject):
    progress = Signal(int, int, str)
    done = Signal(object)
    failed = Signal(str)


class FileTask(QRunnable):
    """Runs ``fn(store, progress)`` on a connection of its own to ``db_path`` (in a thread pool).

    Signals (on ``self.signals``, delivered on the GUI thread): ``progress(int, int, str)``,
    ``done(object)`` with the result, ``failed(str)`` with the error's own message (a
    :class:`~tiebreak.core.formats.FormatError` names file, record and field).
    """

    def __init__(self, db_path: Path, fn: TaskFn) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the controller holds it until done/failed
        self.db_path, self.fn = db_path, fn
        self.signals = _TaskSignals()

    def run(self) -> None:
        """Thread entry point."""
        store = None
        try:
            store = open_database(self.db_path)
            result = self.fn(store, self.signals.progress.emit)
        except TiebreakError as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 (shown to the user, never a crash)
            self.signals.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.signals.done.emit(result)
        finally:
            if store is not None:
                store.close()


def start(task: FileTask, pool: QThreadPool | None = None) -> FileTask:
    """Start ``task`` in ``pool`` (the global pool by default) and return it."""
    (pool or QThreadPool.globalInstance()).start(task)
    return task


def read_files(paths: Sequence[str | Path], progress: ProgressFn) -> list[ParsedFile]:
    """Read and validate every file (one progress step per file; the first bad record raises)."""
    parsed = []
    for i, path in enumerate(paths):
        progress(i, len(paths) + 1, f"reading {Path(path).name}")
        parsed.append(read_file(path))
    progress(len(paths), len(paths) + 1, "writing to the database")
    return parsed


def preview_task(paths: Sequence[str | Path]) -> TaskFn:
    """A task returning ``(ImportReport, parsed)``: what importing ``paths`` would add (dry run)."""

    def body(store: Any, progress: ProgressFn) -> tuple[ImportReport, list[ParsedFile]]:
        parsed = read_files(paths, progress)
        return preview_parsed(store, parsed), parsed

    return body


@dataclass(frozen=True)
class Imported:
    """What an import task did: the import's report and the LC cache refresh after it (None: nothing added)."""

    report: ImportReport
    lc: LcRefresh | None


def import_task(paths: Sequence[str | Path] = (), parsed: list[ParsedFile] | None = None) -> TaskFn:
    """A task importing ``paths`` (or files already read) in one transaction; an :class:`Imported`.

    After the import commits, the leaderboard's LC panels it made stale are refitted on the
    task's connection (``refresh_stale_lc``: never fails the import; the next leaderboard is warm).
    """

    def body(store: Any, progress: ProgressFn) -> Imported:
        files = parsed if parsed is not None else read_files(paths, progress)
        report = import_parsed(store, files)
        lc = None
        if report.added:
            progress(1, 2, "updating the leaderboard")
            lc = refresh_stale_lc(store)
        progress(1, 1, "done")
        return Imported(report, lc)

    return body


def export_task(path: str | Path, fmt: str, *, force: bool) -> TaskFn:
    """A task exporting every live annotation to ``path`` in ``fmt`` (safe write); the record count."""

    def body(store: Any, progress: ProgressFn) -> int:
        progress(0, 1, f"writing {Path(path).name}")
        count = export_annotations(store, path, fmt, force=force)
        progress(1, 1, "done")
        return count

    return body


def describe(report: ImportReport | Imported) -> str:
    """What an import added (or would add), one line per file; then the leaderboard cache's refresh."""
    if isinstance(report, Imported):
        return describe(report.report) + ("" if report.lc is None else "\n\n" + report.lc.line())
    return "\n".join(f.summary() for f in report.files)
