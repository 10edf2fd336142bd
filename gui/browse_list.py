"""Browse's filter bar (search, model, annotators, dataset, flagged, disagreements) and sortable list."""

from __future__ import annotations

import math

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.browse.sql import BrowseFilter

ALL = "(all)"
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
#: (header, row key, tooltip)
LIST_COLUMNS = [
    ("#", "position", "Position under the filter"),
    ("Instruction", "instruction", "The instruction (first 200 characters)"),
    ("Candidate", "generator_2", "Output 2's model"),
    ("Humans", "human_mean", "Mean human preference (1 = reference, 2 = candidate, 1.5 = tie) and n"),
    ("Judges", "judge_mean", "Mean judge preference and n"),
    ("≠", "disagree", "Humans and judges lean to different sides"),
    ("⚑", "n_flags", "Live flags"),
    ("Reviewed", "n_reviews", "Review actions (accept / override)"),
    ("Dataset", "dataset", "Dataset of the instruction"),
]


def _combo() -> QComboBox:
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    return combo


def refill(combo: QComboBox, names: list[str]) -> None:
    """Replace a combo's entries with ``(all)`` + ``names``, keeping the selection if still present."""
    items = [ALL, *names]
    if [combo.itemText(i) for i in range(combo.count())] == items:
        return
    current = combo.currentText()
    blocked = combo.blockSignals(True)
    combo.clear()
    combo.addItems(items)
    for i, name in enumerate(items):
        combo.setItemData(i, name, Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(max(combo.findText(current), 0))
    combo.blockSignals(blocked)


class FilterBar(QWidget):
    """Every Browse filter; ``changed`` fires (debounced for typing) when one changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search instruction and outputs…", clearButtonEnabled=True)
        self.generator, self.group, self.dataset = _combo(), _combo(), _combo()
        self.flagged = QCheckBox("flagged")
        self.disagreements = QCheckBox("humans ≠ judges")
        self.disagreements.setToolTip("Humans and judges lean to different sides (mean preference of each)")
        self.go_to = QSpinBox(minimum=1, maximum=1, prefix="go to ")
        self.go_to.setToolTip("Jump to a position in the filtered list (Enter)")
        self._typing = QTimer(self, singleShot=True, interval=250)
        self._typing.timeout.connect(self.changed.emit)
        self.search.textChanged.connect(lambda _t: self._typing.start())
        for combo in (self.generator, self.group, self.dataset):
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        for box in (self.flagged, self.disagreements):
            box.toggled.connect(lambda _c: self.changed.emit())
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.search, 0, 0, 1, 2)
        grid.addWidget(self.go_to, 0, 2)
        for col, (label, combo) in enumerate((("Model", self.generator), ("Annotators", self.group),
                                              ("Dataset", self.dataset))):  # fmt: skip
            box = QWidget()
            row = QVBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(0)
            row.addWidget(QLabel(label))
            row.addWidget(combo)
            grid.addWidget(box, 1, col)
        flags = QHBoxLayout()
        flags.addWidget(self.flagged)
        flags.addWidget(self.disagreements)
        flags.addStretch(1)
        grid.addLayout(flags, 2, 0, 1, 5)

    def value(self) -> BrowseFilter:
        """The filter the widgets describe."""
        def pick(combo: QComboBox) -> str | None:
            return None if combo.currentText() in (ALL, "") else combo.currentText()

        gen = pick(self.generator)
        return BrowseFilter(generators=(gen,) if gen else (), group=pick(self.group), text=self.search.text(),
                            dataset=pick(self.dataset), flagged=self.flagged.isChecked(),
                            disagreements=self.disagreements.isChecked())  # fmt: skip

    def set_browse(self, browse: dict) -> None:
        """Apply a browse request from another screen (keys ``generator``, ``group``, ``disagreements``)."""
        for key, combo in (("generator", self.generator), ("group", self.group), ("dataset", self.dataset)):
            wanted = browse.get(key)
            blocked = combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findText(wanted), 0) if wanted else 0)
            combo.blockSignals(blocked)
        blocked = self.disagreements.blockSignals(True)
        self.disagreements.setChecked(bool(browse.get("disagreements")))
        self.disagreements.blockSignals(blocked)
        self.changed.emit()


def _mean(value: float | None, n: int) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f} (n={n})"


class ListView(QTableView):
    """The filtered comparisons as a sortable table; ``picked(int)`` gives a chosen comparison id."""

    picked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = QStandardItemModel(0, len(LIST_COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.source)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        self.setSortingEnabled(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setWordWrap(False)
        self.clicked.connect(lambda index: self.picked.emit(int(index.data(ID_ROLE))))
        self.activated.connect(lambda index: self.picked.emit(int(index.data(ID_ROLE))))

    def fill(self, rows: list[dict]) -> None:
        """Show ``rows`` (from :func:`tiebreak.core.browse.sql.list_rows`) in list order."""
        self.source.clear()
        self.source.setHorizontalHeaderLabels([c[0] for c in LIST_COLUMNS])
        for c, (_h, _k, tip) in enumerate(LIST_COLUMNS):
            self.source.setHeaderData(c, Qt.Orientation.Horizontal, tip, Qt.ItemDataRole.ToolTipRole)
        for pos, r in enumerate(rows, start=1):
            cells = []
            for _h, key, _tip in LIST_COLUMNS:
                value = pos if key == "position" else r[key]
                if key in ("human_mean", "judge_mean"):
                    text = _mean(value, r["n_human" if key == "human_mean" else "n_judge"])
                    sort = -1.0 if value is None else float(value)
                elif key == "disagree":
                    text, sort = ("≠" if value else ""), int(value)
                else:
                    text, sort = ("" if value is None else " ".join(str(value).split())), value if value is not None else ""
                item = QStandardItem(text)
                item.setData(sort, SORT_ROLE)
                item.setData(r["comparison_id"], ID_ROLE)
                if key == "instruction":
                    item.setToolTip(str(value))
                cells.append(item)
            self.source.appendRow(cells)
        self.setColumnWidth(0, 40)
        self.setColumnWidth(1, 170)

    def select_id(self, comparison_id: int) -> None:
        """Highlight the row of ``comparison_id`` (no signal)."""
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(ID_ROLE) == comparison_id:
                blocked = self.blockSignals(True)
                self.selectRow(row)
                self.scrollTo(index)
                self.blockSignals(blocked)
                return
