"""Composition root: QApplication, the database, the AppContext and the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from tiebreak.core.lightimport import import_sqlite_utils_without_pandas

# Before anything imports tiebreak.core.store: sqlite-utils would import pandas and numpy (0.5-2 s,
# ~100 MB) only for type hooks the app never uses; they load later if a screen needs a frame.
import_sqlite_utils_without_pandas()

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tiebreak.gui import settings as app_settings  # noqa: E402
from tiebreak.gui.context import AppContext  # noqa: E402
from tiebreak.gui.main_window import MainWindow  # noqa: E402

SCREENSHOT_DELAY_MS = 1200


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (HiDPI pass-through scaling; the system's light/dark palette is kept)."""
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Tiebreak")
    app.setOrganizationName("tiebreak")
    app.setDesktopFileName("tiebreak")
    return app


def open_context(db: str | Path | None) -> tuple[AppContext | None, str | None]:
    """Open the database; an error becomes a message.

    The default database (no ``--db``, no $TIEBREAK_DB) is created on first launch and gets the
    bundled sample; a database the user names is never created implicitly nor given the sample.
    """
    import os

    from tiebreak.core.paths import default_db_path

    path = default_db_path(db)
    first_launch_default = not db and not os.environ.get("TIEBREAK_DB")
    try:
        from tiebreak.core.sample import open_database

        store = open_database(path, create=first_launch_default, sample=first_launch_default)
    except Exception as exc:  # noqa: BLE001 (shown in the window, never a crash)
        return None, f"Could not open the database {path}: {type(exc).__name__}: {exc}"
    return AppContext(store=store, db_path=path), None


def build_window(db: str | Path | None, settings: app_settings.Settings | None = None) -> MainWindow:
    """Open the database and build the main window (used by :func:`run` and the benchmark)."""
    settings = settings or app_settings.current()
    app_settings.install(settings)
    ctx, error = open_context(db)
    return MainWindow(ctx, settings, error=error)


def run(db: str | None = None, screenshot: str | None = None) -> int:
    """Start the app on ``db`` (None: $TIEBREAK_DB or the user's data directory); exit status.

    With ``screenshot``, render the window to that PNG once the first screen has settled (about
    a second, so the statistics are loaded) and exit: 0 when written, 1 otherwise.
    """
    from tiebreak.gui.display import ensure_display

    note = ensure_display()
    if note:
        print(f"tiebreak: {note}", file=sys.stderr)
    app = make_application()
    window = build_window(db)
    window.show()
    if note:
        window.show_status(note)
    result = {"status": 0}
    if screenshot:

        def grab_and_quit() -> None:
            if not window.grab().save(str(screenshot)):
                print(f"tiebreak: could not write the screenshot {screenshot}", file=sys.stderr)
                result["status"] = 1
            window.close()
            app.quit()

        QTimer.singleShot(SCREENSHOT_DELAY_MS, grab_and_quit)
    status = app.exec()
    if window.ctx is not None:
        window.ctx.store.close()
    return int(status or result["status"])
