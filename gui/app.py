"""Composition root: QApplication, the database, the AppContext and the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from tiebreak.core.errors import TiebreakError
from tiebreak.core.logs import log_path, log_unexpected, setup_logging
from tiebreak.core.paths import default_db_path, resource_path
from tiebreak.gui import settings as app_settings
from tiebreak.gui.context import AppContext
from tiebreak.gui.main_window import MainWindow
from tiebreak.gui.reporter import ErrorReporter
from tiebreak.gui.screen_loader import tune_collector

SCREENSHOT_DELAY_MS = 1200
#: The app's icon (also referenced by resources/tiebreak.desktop).
ICON = "tiebreak.svg"


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (HiDPI pass-through scaling; the system's light/dark palette is kept)."""
    existing = QApplication.instance()
    if existing is not None:
        return existing  # type: ignore[return-value]
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Tiebreak")
    app.setOrganizationName("tiebreak")
    app.setDesktopFileName("tiebreak")  # resources/tiebreak.desktop
    app.setWindowIcon(app_icon())
    tune_collector()  # no automatic garbage collection inside a key press
    return app


def open_context(db: str | Path | None) -> tuple[AppContext | None, str | None]:
    """Open the database; an error becomes a message.

    The default database (no ``--db``, no $TIEBREAK_DB) is created on first launch and gets the
    bundled sample; a database the user names is never created implicitly nor given the sample.
    """
    import os


    path = default_db_path(db)
    first_launch_default = not db and not os.environ.get("TIEBREAK_DB")
    try:
        from tiebreak.core.sample import open_database

        store = open_database(path, create=first_launch_default, sample=first_launch_default)
    except TiebreakError as exc:
        reason = str(exc).removeprefix(f"cannot open the database {path}: ")  # said once
        return None, f"Could not open the database {path}: {reason}"
    except Exception as exc:  # noqa: BLE001 (a bug: logged, and the window says where the log is)
        log_unexpected(exc, f"opening {path}")
        return None, f"Could not open the database {path}: {type(exc).__name__}: {exc} (see the log {log_path()})"
    return AppContext(store=store, db_path=path), None


def build_window(db: str | Path | None, settings: app_settings.Settings | None = None) -> MainWindow:
    """Open the database and build the main window (used by :func:`run` and the benchmark)."""
    settings = settings or app_settings.current()
    app_settings.install(settings)
    ctx, error = open_context(db)
    window = MainWindow(ctx, settings, error=error)
    window.defer_builds = True  # a first visit shows "Loading…" at once, then builds the screen
    window.setWindowIcon(app_icon())
    return window


def app_icon() -> QIcon:
    """Tiebreak's icon (resources/tiebreak.svg, the one the .desktop entry names)."""
    return QIcon(str(resource_path(ICON)))


def run(db: str | None = None, screenshot: str | None = None) -> int:
    """Start the app on ``db`` (None: $TIEBREAK_DB or the user's data directory); exit status.

    With ``screenshot``, render the window to that PNG once the first screen has settled (about
    a second, so the statistics are loaded) and exit: 0 when written, 1 otherwise.
    """
    from tiebreak.gui.display import ensure_display

    note = ensure_display()
    if note:
        print(f"tiebreak: {note}", file=sys.stderr)
    log_file = setup_logging()
    app = make_application()
    window = build_window(db)
    reporter = ErrorReporter(window, log_file).install()
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
    reporter.uninstall()
    if window.ctx is not None:
        window.ctx.store.close()
    return int(status or result["status"])
