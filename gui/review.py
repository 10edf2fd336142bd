"""The Review screen: draw an audit sample or pick ad-hoc items, then review them blind."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QScrollArea, QStackedWidget, QWidget

from tiebreak.core.labelling.session import DatabaseBusy
from tiebreak.core.review.export import reviewed_items, write_export
from tiebreak.core.review.session import ReviewSession
from tiebreak.core.sample import open_interactive
from tiebreak.gui.checkpoints import Checkpointer
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.actions import ShownOnly
from tiebreak.gui.review_form import ReviewForm
from tiebreak.gui.review_mode import ReviewWorkspace

__all__ = ["EXPORTS", "ReviewForm", "ReviewScreen"]

EXPORTS = {"CSV (*.csv)": "csv", "JSON Lines (*.jsonl)": "jsonl", "AlpacaEval annotations (*.json)": "alpaca"}
#: Shown estimates are recomputed this long after the last decision (a burst of keys counts once).
ESTIMATE_REFRESH_MS = 400


class ReviewScreen(QStackedWidget):
    """Review tab: the form (page 0), then the review workspace (page 1).

    Signals
    -------
    menu_actions_added(list)
        (menu, QAction) pairs to add to the window's menus: the review keys, once the workspace is built.
    """

    menu_actions_added = Signal(list)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store = None  # the review connection: its writes never wait long (open_interactive)
        self.checkpointer = Checkpointer(self)  # ... and never checkpoint: its log is copied in the background
        self.form = ReviewForm(ctx)
        self._workspace: ReviewWorkspace | None = None  # built when first needed (Start review)
        self.setup_page = QScrollArea()  # the setup scrolls: a small window still fits the workspace
        self.setup_page.setWidget(self.form)
        self.setup_page.setWidgetResizable(True)
        self.setup_page.setFrameShape(QScrollArea.Shape.NoFrame)
        self.addWidget(self.setup_page)
        self.form.start_button.clicked.connect(lambda: self._safe(self.start))
        self.form.draw_button.clicked.connect(lambda: self._safe(self.form.draw))
        self.form.adhoc_button.clicked.connect(lambda: self._safe(self.form.add_adhoc))
        self.form.estimates.button.clicked.connect(lambda: self._safe(self.estimate))
        self.form.export_button.clicked.connect(lambda: self._safe(self._ask_export))
        self._refresh = QTimer(self, singleShot=True, interval=ESTIMATE_REFRESH_MS)
        self._refresh.timeout.connect(lambda: self._safe(self.estimate))
        ctx.events.annotations_changed.connect(self._decision_arrived)
        self.back_action = QAction("Review setup…", self)
        self.back_action.triggered.connect(self.show_form)
        ShownOnly(self, [self.back_action])  # like every screen action: only while Review is in front

    @property
    def workspace(self) -> ReviewWorkspace:
        """The blind-review workspace (page 1), built on first use: the first visit shows the setup alone."""
        if self._workspace is None:
            self._workspace = ReviewWorkspace(self.ctx)
            self._workspace.changed.connect(self.checkpointer.wrote)
            self.addWidget(self._workspace)
            self.menu_actions_added.emit(self._review_actions())
        return self._workspace

    @property
    def built_workspace(self) -> ReviewWorkspace | None:
        """The workspace if it was built (None before the first review)."""
        return self._workspace

    def menu_actions(self) -> list[tuple[str, QAction]]:
        """Menu entries: back to the setup (the review keys follow when the workspace is built)."""
        return [("&Review", self.back_action), *(self._review_actions() if self._workspace else [])]

    def _review_actions(self) -> list[tuple[str, QAction]]:
        ws = self._workspace
        return [] if ws is None else [("&Review", ws.actions_by_id[i]) for i in ("accept", "override", "reason")]

    def _safe(self, op) -> None:
        try:
            op()
        except Exception as exc:  # noqa: BLE001 (shown, never a crash)
            self.form.message.setText(str(exc))
            self.ctx.events.status_message.emit(str(exc))

    def start(self) -> ReviewSession:
        """Open the review session and show the workspace."""
        name = self.form.reviewer.text().strip()
        if not name:
            raise ValueError("Enter your name as reviewer first.")
        self.store = self.store or open_interactive(self.ctx.store)  # a busy database: the vote is held
        self.checkpointer.watch(self.store)
        try:
            session = ReviewSession.open_review(self.store, name, self.form.judge.currentText(),
                                                audit_group=self.form.audit.currentText() or None,
                                                stream=self.form.stream.currentText())  # fmt: skip
        except DatabaseBusy as exc:
            raise DatabaseBusy("Could not start the review: the database is busy (another program is writing, "
                               "e.g. an import); press Start review again in a moment") from exc  # fmt: skip
        self.form.remember_choice()
        self.setCurrentWidget(self.workspace)
        self.workspace.start(session, annotator=name)
        self.workspace.view.stats.show_unavailable("reviews feed the Human vs judge tab and the estimates")
        self.ctx.events.status_message.emit(
            f"Reviewing {session.audit_group} ({session.stream}) as {name}: vote blind, then A / X")
        return session

    def _decision_arrived(self, _change: object) -> None:
        """Estimates once shown follow the decisions (recomputed shortly after the last one)."""
        if self.form.estimates.last is not None:
            self._refresh.start()

    def estimate(self) -> None:
        """Estimate win rates from the chosen judge and audit stream."""
        self.form.estimates.estimate(self.ctx.store, self.form.judge.currentText(), self.form.audit.currentText())

    def _ask_export(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(self, "Export reviewed items", "reviews.csv", ";;".join(EXPORTS))
        if path:
            self.export_reviews(path, EXPORTS[chosen] if chosen in EXPORTS else "csv")

    def export_reviews(self, path: str, fmt: str) -> str:
        """Write every live review of the chosen stream (csv, jsonl or alpaca); returns the message."""
        items = reviewed_items(self.ctx.store, self.form.audit.currentText() or None)
        if items.empty:
            raise ValueError("Nothing to export: no reviewed items in this audit stream.")
        # the save dialog has asked before replacing a file; a database is never written over
        written, missing = write_export(items, path, fmt, force=True, protect=[self.ctx.db_path])
        message = f"Exported {written} reviewed item(s) to {path}" + (f" ({missing} without a final verdict left out)"
                                                                       if missing else "")  # fmt: skip
        self.form.message.setText(message)
        return message

    def show_form(self) -> None:
        """Back to the setup page."""
        self.form.reload()
        self.setCurrentWidget(self.setup_page)
