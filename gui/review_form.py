"""The Review screen's setup page: who reviews which judge's stream, drawing samples, ad-hoc picks."""

from __future__ import annotations

from functools import partial

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.identity import database_id
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.review.queue import QueueFilter
from tiebreak.core.review.sampling import DESIGNS
from tiebreak.core.review.setup import (
    FormChoices,
    add_most_uncertain,
    audit_streams,
    form_choices,
    form_choices_at,
)
from tiebreak.gui import settings as app_settings
from tiebreak.gui.context import AppContext
from tiebreak.gui.review_estimates import EstimatesView
from tiebreak.gui.safe_text import plain_label
from tiebreak.gui.snapshot_runner import SnapshotRunner

FORM_MAX_WIDTH = 900


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
