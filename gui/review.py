"""The Review screen: draw an audit sample or pick ad-hoc items, then review them blind."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.identity import database_id
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.review.export import reviewed_items, write_export
from tiebreak.core.review.queue import QueueFilter
from tiebreak.core.review.sampling import DESIGNS
from tiebreak.core.review.session import ReviewSession
from tiebreak.core.review.setup import (
    FormChoices,
    add_most_uncertain,
    audit_streams,
    form_choices,
    form_choices_at,
)
from tiebreak.gui import settings as app_settings
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.actions import ShownOnly
from tiebreak.gui.review_estimates import EstimatesView
from tiebreak.gui.review_mode import ReviewWorkspace
from tiebreak.gui.safe_text import plain_label
from tiebreak.gui.snapshot_runner import SnapshotRunner

EXPORTS = {"CSV (*.csv)": "csv", "JSON Lines (*.jsonl)": "jsonl", "AlpacaEval annotations (*.json)": "alpaca"}


FORM_MAX_WIDTH = 900
#: Shown estimates are recomputed this long after the last decision (a burst of keys counts once).
ESTIMATE_REFRESH_MS = 400


class ReviewForm(QWidget):
    """Who reviews which judge's audit stream; draw more items; queue ad-hoc items by filter."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.reviewer = QLineEdit()
        self.reviewer.setPlaceholderText("your name")
        self.judge = QComboBox()
        self.audit = QComboBox()
        self.audit.setEditable(True)
        self.stream = QComboBox()
        self.stream.addItems(["random", "adhoc"])
        self.start_button = QPushButton("Start review")
        self.design = QComboBox()
        self.design.addItems(list(DESIGNS))
        self.n = QSpinBox()
        self.n.setRange(1, 100000)
        self.n.setValue(50)
        self.draw_button = QPushButton("Draw audit sample")
        self.export_button = QPushButton("Export reviewed items…")
        self.model = QComboBox()
        self.dataset = QComboBox()
        self.max_conf = QDoubleSpinBox()
        self.max_conf.setRange(0, 1)
        self.max_conf.setSingleStep(0.1)
        self.max_conf.setValue(1.0)
        self.min_gap = QSpinBox()
        self.min_gap.setRange(0, 1_000_000)
        self.disagree = QComboBox()
        self.disagree.addItems(["(any)", "seeds", "orders", "any"])
        self.adhoc_n = QSpinBox()
        self.adhoc_n.setRange(1, 100000)
        self.adhoc_n.setValue(20)
        self.adhoc_button = QPushButton("Add most uncertain to the ad-hoc stream")
        self.estimates = EstimatesView()
        self.message = plain_label()
        self.message.setObjectName("reviewMessage")
        self.message.setWordWrap(True)
        self.runner = SnapshotRunner(self)
        self.runner.ready.connect(self.apply)
        self.runner.failed.connect(self.message.setText)
        self._layout()
        self.judge.currentTextChanged.connect(self._judge_changed)
        self.reload()

    def _layout(self) -> None:
        who = QFormLayout()
        who.addRow("Reviewer", self.reviewer)
        who.addRow("Judge", self.judge)
        who.addRow("Audit stream", self.audit)
        who.addRow("Items", self.stream)
        who.addRow(self.start_button)
        who.addRow(self.export_button)
        draw = QGroupBox("Random audit (valid for estimates: probabilities are stored before showing)")
        row = QHBoxLayout(draw)
        for w in (QLabel("design"), self.design, QLabel("n"), self.n, self.draw_button):
            row.addWidget(w)
        adhoc = QGroupBox("Ad-hoc review (kept apart: never used as a random sample)")
        f = QFormLayout(adhoc)
        f.addRow("Model", self.model)
        f.addRow("Dataset / category", self.dataset)
        f.addRow("Max judge confidence", self.max_conf)
        f.addRow("Min length gap (chars)", self.min_gap)
        f.addRow("Seed / order disagreement", self.disagree)
        f.addRow("How many", self.adhoc_n)
        f.addRow(self.adhoc_button)
        forms = QWidget()  # the forms keep a readable width; the estimates table takes the rest
        forms.setMaximumWidth(FORM_MAX_WIDTH)
        inner = QVBoxLayout(forms)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(who)
        inner.addWidget(draw)
        inner.addWidget(adhoc)
        col = QVBoxLayout(self)
        col.addWidget(forms)
        col.addWidget(self.message)
        est = QGroupBox("Human-anchored win rates of the audit stream (or of an imported human group)")
        QVBoxLayout(est).addWidget(self.estimates)
        col.addWidget(est, 1)

    def reload(self) -> None:
        """Refill judges, streams and models from the store (off the GUI thread for a file)."""
        if self.ctx.db_path is None:  # an in-memory database has one connection: read here
            self.apply(form_choices(self.ctx.store))
            return
        self.message.setText("Loading judges, models and datasets…")
        self.start_button.setEnabled(False)
        self.runner.request(partial(form_choices_at, self.ctx.db_path))

    def apply(self, choices: FormChoices) -> None:
        """Show ``choices`` (then the reviewer, judge and stream remembered for this database)."""
        self.start_button.setEnabled(True)
        if self.message.text().startswith("Loading"):
            self.message.setText("")
        judges = choices.judges
        current = self.judge.currentText()
        self.judge.blockSignals(True)
        self.judge.clear()
        self.judge.addItems(judges)
        if current in judges:
            self.judge.setCurrentText(current)
        self.judge.blockSignals(False)
        self.model.clear()
        self.model.addItems(["(all)", *choices.models])
        self.dataset.clear()
        self.dataset.addItems(["(all)", *choices.datasets])
        self._judge_changed(self.judge.currentText())
        self._restore_choice()
        if not judges:
            self.message.setText("No judge verdicts yet: import an annotations file (File ▸ Import…) "
                                 "or run a judge in the Judge tab.")  # fmt: skip

    def _restore_choice(self) -> None:
        remembered = app_settings.current().review_choice(database_id(self.ctx.store))
        if remembered is None:
            return
        if not self.reviewer.text():
            self.reviewer.setText(remembered.get("reviewer", ""))
        if remembered.get("judge") in [self.judge.itemText(i) for i in range(self.judge.count())]:
            self.judge.setCurrentText(remembered["judge"])
            if remembered.get("audit"):
                self.audit.setCurrentText(remembered["audit"])
        if remembered.get("stream") in ("random", "adhoc"):
            self.stream.setCurrentText(remembered["stream"])

    def remember_choice(self) -> None:
        """Remember reviewer, judge, audit stream and items for this database (the next launch offers them)."""
        app_settings.current().set_review_choice(database_id(self.ctx.store), {
            "reviewer": self.reviewer.text().strip(), "judge": self.judge.currentText(),
            "audit": self.audit.currentText(), "stream": self.stream.currentText()})  # fmt: skip

    def _judge_changed(self, judge: str) -> None:
        self.audit.clear()
        self.audit.addItems(audit_streams(self.ctx.store, judge))

    def draw(self) -> None:
        """Draw a random audit sample for the chosen judge and stream."""
        rep = sample_audit(self.ctx.store, self.judge.currentText(), self.n.value(),
                           self.design.currentText(), audit_group=self.audit.currentText() or None)
        self.message.setText(f"Drew {rep.n_new} new item(s) into {rep.audit_group!r} ({rep.design}, seed "
                             f"{rep.seed}); {rep.n_in_stream} of {rep.population} verdicts are in the stream.")
        self.stream.setCurrentText("random")

    def add_adhoc(self) -> None:
        """Queue the most uncertain verdicts passing the filter in the ad-hoc stream."""
        judge = self.judge.currentText()
        model, dataset = self.model.currentText(), self.dataset.currentText()
        flt = QueueFilter(
            models=None if model == "(all)" else (model,),
            datasets=None if dataset == "(all)" else (dataset,),
            max_confidence=self.max_conf.value() if self.max_conf.value() < 1 else None,
            min_length_gap=self.min_gap.value() or None,
            disagreement=None if self.disagree.currentIndex() == 0 else self.disagree.currentText(),
        )
        n = add_most_uncertain(self.ctx.store, judge, flt, self.adhoc_n.value(), self.audit.currentText() or None)
        self.message.setText(f"Queued {n} item(s) in the ad-hoc stream ({flt.describe()}).")
        self.stream.setCurrentText("adhoc")


class ReviewScreen(QStackedWidget):
    """Review tab: the form (page 0), then the review workspace (page 1)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.form = ReviewForm(ctx)
        self.workspace = ReviewWorkspace(ctx)
        self.setup_page = QScrollArea()  # the setup scrolls: a small window still fits the workspace
        self.setup_page.setWidget(self.form)
        self.setup_page.setWidgetResizable(True)
        self.setup_page.setFrameShape(QScrollArea.Shape.NoFrame)
        self.addWidget(self.setup_page)
        self.addWidget(self.workspace)
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

    def menu_actions(self) -> list[tuple[str, QAction]]:
        """Menu entries: back to the setup, and the review keys."""
        entries = [("&Review", self.back_action)]
        entries += [("&Review", self.workspace.actions_by_id[i]) for i in ("accept", "override", "reason")]
        return entries

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
        session = ReviewSession.open_review(self.ctx.store, name, self.form.judge.currentText(),
                                     audit_group=self.form.audit.currentText() or None,
                                     stream=self.form.stream.currentText())
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
