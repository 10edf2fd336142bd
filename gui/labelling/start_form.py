"""Start of a labelling session: pick or create the annotator, dataset, reference, candidates."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.labelling.choices import candidates, start_choices
from tiebreak.core.labelling.session import QueueSpec, SessionError
from tiebreak.gui.safe_text import plain_label

ALL_DATASETS = "(all datasets)"


class StartForm(QWidget):
    """Collects a :class:`QueueSpec`.

    Signals
    -------
    start_requested(object)
        The user pressed Start with a valid spec (payload: QueueSpec).
    """

    start_requested = Signal(object)

    def __init__(self, store: object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.annotator = QComboBox()
        self.annotator.setEditable(True)
        self.annotator.lineEdit().setPlaceholderText("your name (a new name creates an annotator)")
        self.dataset = QComboBox()
        self.reference = QComboBox()
        self.candidates = QListWidget()
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.message = plain_label()
        self.message.setObjectName("formMessage")
        self.message.setWordWrap(True)
        self.start_button = QPushButton("Start labelling  [Enter]")
        self.start_button.setDefault(True)
        form = QFormLayout()
        form.addRow("Annotator", self.annotator)
        form.addRow("Dataset", self.dataset)
        form.addRow("Reference model", self.reference)
        form.addRow("Candidate model(s)", self.candidates)
        form.addRow("Order seed", self.seed)
        title = QLabel("<h2>Who is labelling?</h2><p>Type your name (Enter starts, or resumes your "
                       "queue). Model names stay hidden until you vote; sides and order are "
                       "randomised for you.</p>")  # fmt: skip
        title.setWordWrap(True)
        self.setMaximumWidth(760)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addStretch(1)
        self.reference.currentTextChanged.connect(self._fill_candidates)
        self.start_button.clicked.connect(self.submit)
        self.annotator.lineEdit().returnPressed.connect(self.submit)
        self.reload()

    def reload(self) -> None:
        """Refill the choices from the database."""
        choices = start_choices(self.store)
        self.annotator.clear()
        self.annotator.addItems(choices.annotators)
        self.annotator.setCurrentText("")
        self.dataset.clear()
        self.dataset.addItems([ALL_DATASETS, *choices.datasets])
        self.reference.clear()
        refs = choices.references
        self.reference.addItems(refs)
        self.message.setText("" if refs else "The database holds no comparisons yet: import some first.")

    def refresh(self) -> None:
        """Refill the choices after the database changed (an import), keeping what was typed and chosen."""
        typed, dataset, reference = self.annotator.currentText(), self.dataset.currentText(), self.reference.currentText()
        self.reload()
        self.annotator.setCurrentText(typed)
        for box, text in ((self.dataset, dataset), (self.reference, reference)):
            if box.findText(text) >= 0:
                box.setCurrentText(text)

    def _fill_candidates(self, reference: str) -> None:
        self.candidates.clear()
        for name in candidates(self.store, reference) if reference else []:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.candidates.addItem(item)

    def preset(self, spec: QueueSpec) -> None:
        """Pre-fill the form with an earlier choice."""
        self.annotator.setCurrentText(spec.annotator)
        self.dataset.setCurrentText(spec.dataset or ALL_DATASETS)
        self.reference.setCurrentText(spec.reference)
        for i in range(self.candidates.count()):
            item = self.candidates.item(i)
            chosen = item.text() in spec.candidates
            item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)
        self.seed.setValue(spec.seed)

    def spec(self) -> QueueSpec:
        """The chosen spec; raises SessionError with what is missing."""
        chosen = tuple(
            self.candidates.item(i).text()
            for i in range(self.candidates.count())
            if self.candidates.item(i).checkState() == Qt.CheckState.Checked
        )
        if not self.reference.currentText():
            raise SessionError("start: no reference model to label against")
        dataset = self.dataset.currentText()
        return QueueSpec(
            annotator=self.annotator.currentText().strip(),
            reference=self.reference.currentText(),
            candidates=chosen,
            dataset=None if dataset in ("", ALL_DATASETS) else dataset,
            seed=self.seed.value(),
        )

    def submit(self) -> None:
        """Validate and emit ``start_requested`` (or show what is wrong)."""
        try:
            spec = self.spec()
        except SessionError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText("")
        self.start_requested.emit(spec)
