"""Crowd mode: a window on one annotator pack with only the labelling workspace (identity and queue fixed).

Pooled statistics, Browse, Annotators, judge verdicts and anything about other annotators are not
offered: the window has a single screen, the pack holds no one else's labels, and the statistics
panel shows only the annotator's own progress.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from tiebreak.core.crowd.pack import start_pack_session
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.workspace import Workspace

#: The only screen of crowd mode.
CROWD_SCREENS = [("Labelling", "tiebreak.gui.crowd_labelling:CrowdLabellingScreen")]
HIDDEN_NOTE = "pooled statistics are hidden in crowd mode (blind labelling); your own progress is above"


class CrowdLabellingScreen(QWidget):
    """The pack's fixed queue in the ordinary labelling workspace, under a banner naming the labeller."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session, self.info = start_pack_session(ctx.store)
        self.banner = QLabel()
        self.banner.setObjectName("crowdBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel#crowdBanner { font-size: 14pt; padding: 6px; }")
        self.banner.setText(
            f"Labelling as <b>{html.escape(self.info.annotator)}</b> · round {html.escape(self.info.round)}"
            + (f"<br><small>{html.escape(self.info.guidelines.splitlines()[0])}</small>" if self.info.guidelines.strip() else "")
        )
        self.workspace = Workspace(ctx)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.banner)
        lay.addWidget(self.workspace, 1)
        self.workspace.start(self.session)
        stats = self.workspace.view.stats
        stats.show_unavailable(HIDDEN_NOTE)
        for table in (stats.win_table, stats.agree_table):  # pooled figures: not even their frames
            table.parentWidget().hide()
        if self.info.guidelines.strip():  # the round's guidelines replace the built-in ones (H)
            body = "<pre style='white-space: pre-wrap'>" + html.escape(self.info.guidelines) + "</pre>"
            self.workspace._do_guidelines = lambda: self.workspace._dialog("guidelines", "Guidelines", body)  # type: ignore[method-assign]  # noqa: SLF001

    def menu_actions(self) -> list[tuple[str, QAction]]:
        """The workspace's actions in the main window's menus."""
        return [(spec.menu, self.workspace.actions_by_id[spec.id]) for spec in self.workspace.specs]


def build_crowd_window(pack: str | Path):  # type: ignore[no-untyped-def]
    """The main window in crowd mode on ``pack`` (an error page when it is not a pack)."""
    from tiebreak.core.sample import open_database
    from tiebreak.gui import settings as app_settings
    from tiebreak.gui.main_window import MainWindow

    settings = app_settings.current()
    app_settings.install(settings)
    try:
        if not Path(pack).is_file():
            raise FileNotFoundError("no such file")
        ctx, error = AppContext(store=open_database(pack, sample=False), db_path=Path(pack)), None
    except Exception as exc:  # noqa: BLE001 (shown in the window, never a crash)
        ctx, error = None, f"Could not open the pack {pack}: {exc}"
    window = MainWindow(ctx, settings, screens=CROWD_SCREENS, error=error, file_menu=False)
    window.setWindowTitle(f"Tiebreak — crowd pack {Path(pack).name}")
    return window


def open_pack_window(parent: QWidget | None = None):  # type: ignore[no-untyped-def]
    """Ask for a pack and open it in a crowd-mode window (returned, or None when cancelled)."""
    from PySide6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(parent, "Open annotator pack", "", "Tiebreak packs (*.tiebreak)")
    if not path:
        return None
    window = build_crowd_window(path)
    window.show()
    return window


def run_pack(pack: str, screenshot: str | None = None) -> int:
    """``tiebreak PACK``: open the pack in crowd mode (works offline); exit status."""
    from PySide6.QtCore import QTimer

    from tiebreak.gui.app import make_application
    from tiebreak.gui.display import ensure_display

    note = ensure_display()
    if note:
        print(f"tiebreak: {note}", file=sys.stderr)
    app = make_application()
    window = build_crowd_window(pack)
    window.show()
    if screenshot:
        QTimer.singleShot(800, lambda: (window.grab().save(screenshot), window.close(), app.quit()))
    status = app.exec()
    if window.ctx is not None:
        window.ctx.store.close()
    return int(status)
