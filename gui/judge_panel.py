"""The Judge screen: pick a configuration and scope, run it in the background, watch cost."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.judge import JudgeOptions, Progress, Summary, annotator_name
from tiebreak.core.judge.report import format_summary
from tiebreak.gui.context import AppContext
from tiebreak.gui.judge_access import JudgeAccess
from tiebreak.gui.judge_configs import JudgeConfigEditor
from tiebreak.gui.safe_text import plain_label
from tiebreak.gui.workers import JudgeWorker

ANY = "(any)"
#: How often committed verdicts are announced to the live statistics during a run.
REFRESH_MS = 1000


class JudgePanel(QWidget):
    """Configuration browser + scope form + start/cancel, progress bar and live cost.

    Signals
    -------
    run_started()
        A worker was started.
    progress(object)
        A :class:`tiebreak.core.judge.Progress` (after the bar and cost label were updated).
    run_finished(object)
        The :class:`tiebreak.core.judge.Summary` of a finished or cancelled run.
    run_failed(str)
        The run stopped on an error (message shown in the panel).
    """

    run_started = Signal()
    progress = Signal(object)
    run_finished = Signal(object)
    run_failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.worker: JudgeWorker | None = None
        self._run_name = ""
        self.poll_seconds = 30.0  # Batch API polling interval (tests shorten it)
        self._last_worker: JudgeWorker | None = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._dirty = False
        self._refresh = QTimer(self)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._announce)
        self.configs = JudgeConfigEditor()
        self._build_form()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.configs)
        split.addWidget(self.form_widget)
        QVBoxLayout(self).addWidget(split)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.configs.selected.connect(self._config_selected)
        for sig in (self.limit.valueChanged, self.seeds.editingFinished, self.force.toggled, self.batch.toggled,
                    self.both_orders.toggled, self.reference.currentIndexChanged, self.generators.itemSelectionChanged):
            sig.connect(self.update_estimate)  # fmt: skip
        self.reload()
        self._config_selected(self.configs.current_name())
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.cancel)  # never leave a run behind a closed app

    def _build_form(self) -> None:
        self.reference = QComboBox()
        self.generators = QListWidget()
        self.generators.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.generators.setToolTip("Candidates to judge (none selected = all)")
        self.seeds = QLineEdit("0")
        self.both_orders = QCheckBox("judge both orders and average")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 256)
        self.concurrency.setValue(8)
        self.limit = QSpinBox()
        self.limit.setRange(0, 10_000_000)
        self.limit.setSpecialValueText("all")
        self.model = QLineEdit()
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("$OPENAI_BASE_URL or OpenAI")
        self.force = QCheckBox("ask again even if judged or cached")
        self.batch = QCheckBox("use the Batch API (half price, slow, resumable)")
        self.start_button = QPushButton("Start judging")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setFormat("%v / %m")
        self.cost = plain_label("$0.0000")
        self.cost.setObjectName("judgeCost")
        self.status = plain_label()
        self.status.setObjectName("judgeStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        for label, widget in (("Reference", self.reference), ("Candidates", self.generators),
                              ("Seeds", self.seeds), ("", self.both_orders),
                              ("Concurrency", self.concurrency), ("Limit", self.limit),
                              ("Model", self.model), ("Endpoint", self.base_url), ("", self.force),
                              ("", self.batch)):  # fmt: skip
            form.addRow(label, widget)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cost)
        self.form_widget = QWidget()
        col = QVBoxLayout(self.form_widget)
        col.addLayout(form)
        self.access = JudgeAccess(lambda: (self.base_url.text().strip() or None, self.options().effective_config()),
                                  self.ctx.store, self.ctx.db_path)
        col.addWidget(self.access)
        col.addLayout(buttons)
        col.addWidget(self.bar)
        col.addWidget(self.status, 1)

    # -- state ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Refill the generator choices from the database (keeping the current choices)."""
        names = self.ctx.store.generators()
        if names == [self.generators.item(i).text() for i in range(self.generators.count())]:
            return
        reference = self.reference.currentText()
        chosen = {i.text() for i in self.generators.selectedItems()}
        self.reference.clear()
        self.reference.addItems([ANY, *names])
        self.reference.setCurrentText(reference if reference in names else ANY)
        self.generators.clear()
        self.generators.addItems(names)
        for i in range(self.generators.count()):
            self.generators.item(i).setSelected(self.generators.item(i).text() in chosen)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Pick up generators imported while the panel was hidden."""
        self.reload()
        super().showEvent(event)

    def _config_selected(self, name: str) -> None:
        config = self.configs.configs.get(name)
        self.start_button.setEnabled(config is not None and self.worker is None)
        if config is not None:
            self.model.setPlaceholderText(config.model)
            self.seeds.setText(",".join(map(str, config.seeds)))
            self.both_orders.setChecked(config.both_orders)
        self.update_estimate()

    @property
    def busy(self) -> bool:
        """Background work of the panel is waiting or running (the run estimate)."""
        return self.access.busy

    def update_estimate(self, *_args: object) -> None:
        """Show how many comparisons a start would ask and the estimated cost."""
        try:
            self.access.request_estimate(self.options(), self.batch.isChecked())
        except ValueError as exc:  # the form is incomplete
            self.access.estimate.setText(f"No estimate: {exc}")

    def options(self) -> JudgeOptions:
        """The run described by the form.

        Raises
        ------
        ValueError
            When the seeds field is not a comma-separated list of integers >= 0.
        """
        config = self.configs.current()
        if config is None:
            raise ValueError("choose a judge configuration")
        try:
            seeds = tuple(int(s) for s in self.seeds.text().split(",") if s.strip())
        except ValueError:
            raise ValueError(f"Seeds: expected integers like 0,1,2,3, got {self.seeds.text()!r}") from None
        if not seeds or min(seeds) < 0:
            raise ValueError("Seeds: at least one integer >= 0")
        reference = self.reference.currentText()
        return JudgeOptions(
            config=config, model=self.model.text().strip() or None,
            base_url=self.base_url.text().strip() or None,
            reference=None if reference == ANY else reference,
            generators=tuple(i.text() for i in self.generators.selectedItems()), seeds=seeds,
            both_orders=self.both_orders.isChecked(), concurrency=self.concurrency.value(),
            limit=self.limit.value() or None, force=self.force.isChecked(),
        )  # fmt: skip

    # -- running --------------------------------------------------------------------------
    def start(self) -> bool:
        """Start a run in the background; False (with the reason shown) when it cannot start."""
        if self.worker is not None:
            return False
        if self.ctx.db_path is None:
            self.status.setText("Judging needs a database file (this one is in memory).")
            return False
        try:
            options = self.options()
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        self.update_estimate()
        self.worker = JudgeWorker(self.ctx.db_path, options, self.access.api_key(),
                                  batch=self.batch.isChecked(), poll_interval=self.poll_seconds)  # fmt: skip
        self.worker.signals.progress.connect(self._on_progress)
        self.worker.signals.finished.connect(self._on_finished)
        self.worker.signals.failed.connect(self._on_failed)
        self._set_running(True)
        self._run_name = annotator_name(options.config, options.model, options.both_orders)
        self.status.setText(f"Judging as {self._run_name}…")
        self.bar.setRange(0, 0)
        self.cost.setText("$0.0000")
        self.pool.start(self.worker)
        self.run_started.emit()
        return True

    def cancel(self) -> None:
        """Stop the running judge (verdicts already stored are kept; a rerun resumes)."""
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling…")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running and self.configs.current() is not None)
        self.cancel_button.setEnabled(running)
        self.configs.setEnabled(not running)
        if running:
            self._refresh.start()
        else:
            self._refresh.stop()

    def _on_progress(self, p: Progress) -> None:
        batch_text = getattr(p, "batch_text", None)  # a BatchProgress while a batch is polled
        if batch_text is not None:
            self.bar.setRange(0, max(p.requests_total, 1))  # type: ignore[attr-defined]
            self.bar.setValue(p.requests_done)  # type: ignore[attr-defined]
            self.status.setText(f"Judging as {self._run_name}: {batch_text()}")
        else:
            self.bar.setRange(0, max(p.total, 1))
            self.bar.setValue(p.finished if p.total else 1)
        self.cost.setText(f"${p.dollars:.4f}  ·  {p.failed} failed  ·  {p.cached} cached")
        self._dirty = self._dirty or p.finished > 0
        self.progress.emit(p)

    def _announce(self) -> None:
        if self._dirty:
            self._dirty = False
            self.ctx.events.annotations_changed.emit(None)

    def _done(self) -> None:
        # keep the finished worker alive until the next run: its thread may still be returning
        self._last_worker, self.worker = self.worker, None
        self._set_running(False)
        self._dirty = True
        self._announce()

    def _on_finished(self, summary: Summary, run_id: int) -> None:
        self._done()
        self.update_estimate()
        self.cost.setText(f"${summary.dollars:.4f}")
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
        self.status.setText(format_summary(self._run_name, run_id, summary))
        self.ctx.events.status_message.emit(f"Judge run {run_id} finished: {summary.judged} new verdicts")
        self.run_finished.emit(summary)

    def _on_failed(self, message: str) -> None:
        self._done()
        self.bar.setRange(0, 1)
        self.status.setText(f"Judge run stopped: {message}")
        self.ctx.events.status_message.emit(f"Judge run stopped: {message}")
        self.run_failed.emit(message)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Cancel a running judge and wait for its thread before the panel goes away."""
        self.cancel()
        self.pool.waitForDone(10_000)
        self.access.pool.waitForDone(10_000)
        self.access.jobs.wait(10_000)
        super().closeEvent(event)
