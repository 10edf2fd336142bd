"""Browse's filter bar (search, model, annotators, dataset, flagged, disagreements) and sortable list."""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.browse.items import BrowseFilter

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
        self.ids: tuple[int, ...] | None = None  # a set of items sent by another screen
        self.items_note = QLabel(wordWrap=True)
        self.items_note.setObjectName("browseItemsNote")
        self.items_note.setTextFormat(Qt.TextFormat.PlainText)
        self.clear_items = QPushButton("Show all")
        self.clear_items.setToolTip("Drop the set of items sent by another screen")
        self.clear_items.clicked.connect(self.drop_items)
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
        note = QHBoxLayout()
        note.addWidget(self.items_note, 1)
        note.addWidget(self.clear_items)
        grid.addLayout(note, 3, 0, 1, 5)
        self._show_items_note("")

    def value(self) -> BrowseFilter:
        """The filter the widgets describe."""
        def pick(combo: QComboBox) -> str | None:
            return None if combo.currentText() in (ALL, "") else combo.currentText()

        gen = pick(self.generator)
        return BrowseFilter(generators=(gen,) if gen else (), group=pick(self.group), text=self.search.text(),
                            dataset=pick(self.dataset), flagged=self.flagged.isChecked(),
                            disagreements=self.disagreements.isChecked(), ids=self.ids)  # fmt: skip

    def _show_items_note(self, title: str) -> None:
        self.items_note.setText(title)
        self.items_note.setVisible(self.ids is not None)
        self.clear_items.setVisible(self.ids is not None)

    def drop_items(self) -> None:
        """Forget the set of items another screen sent (the other filters stay)."""
        self.ids = None
        self._show_items_note("")
        self.changed.emit()

    def set_browse(self, browse: dict) -> None:
        """Apply a browse request from another screen; the filters it does not name are reset.

        Keys: ``generator``, ``group``, ``dataset``, ``disagreements``, ``ids`` (exactly these
        comparisons) with ``title`` (what they are, shown above the list).
        """
        ids = browse.get("ids")
        self.ids = None if ids is None else tuple(int(i) for i in ids)
        n = 0 if ids is None else len(self.ids or ())
        self._show_items_note(f"{browse.get('title') or 'Items from another screen'} — {n:,} comparison"
                              + ("" if n == 1 else "s"))  # fmt: skip
        for widget, clear in ((self.search, lambda: self.search.clear()),
                              (self.flagged, lambda: self.flagged.setChecked(False))):  # fmt: skip
            blocked = widget.blockSignals(True)
            clear()
            widget.blockSignals(blocked)
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


def _cell(row: dict, key: str) -> tuple[str, object]:
    """(display text, sort key) of one cell."""
    value = row[key]
    if key in ("human_mean", "judge_mean"):
        return _mean(value, row["n_human" if key == "human_mean" else "n_judge"]), -1.0 if value is None else value
    if key == "disagree":
        return ("≠" if value else ""), int(value)
    if value is None:
        return "", ""
    return (" ".join(str(value).split()) if key == "instruction" else str(value)), value


def numbered(rows: list[dict]) -> list[dict]:
    """``rows`` with their 1-based ``position`` (the # column): 40,000 dicts, so a worker thread does it."""
    return [dict(r, position=k) for k, r in enumerate(rows, start=1)]


class ListModel(QAbstractTableModel):
    """Rows of :func:`tiebreak.core.browse.sql.list_rows`, drawn on demand (fast for 100k rows)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict] = []

    def set_rows(self, rows: list[dict]) -> None:
        """Replace the rows (their list order gives the # column; rows from :func:`numbered` keep theirs)."""
        self.beginResetModel()
        self.rows = rows if rows and "position" in rows[0] else numbered(rows)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(LIST_COLUMNS)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: D102
        row, key = self.rows[index.row()], LIST_COLUMNS[index.column()][1]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(row, key)[0]
        if role == ID_ROLE:
            return row["comparison_id"]
        if role == SORT_ROLE:
            return _cell(row, key)[1]
        if role == Qt.ItemDataRole.ToolTipRole and key == "instruction":
            return row[key]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802, D102
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return LIST_COLUMNS[section][0]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return LIST_COLUMNS[section][2]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:  # noqa: D102
        key = LIST_COLUMNS[column][1]
        self.layoutAboutToBeChanged.emit()
        self.rows.sort(key=lambda r: (str(type(_cell(r, key)[1])), _cell(r, key)[1]),
                       reverse=order == Qt.SortOrder.DescendingOrder)  # fmt: skip
        self.layoutChanged.emit()


class ListView(QTableView):
    """The filtered comparisons as a sortable table; ``picked(int)`` gives a chosen comparison id."""

    picked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list_model = ListModel(self)
        self.setModel(self.list_model)
        self.setSortingEnabled(True)
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setWordWrap(False)
        self.clicked.connect(lambda index: self.picked.emit(int(index.data(ID_ROLE))))
        self.activated.connect(lambda index: self.picked.emit(int(index.data(ID_ROLE))))
        self.setColumnWidth(0, 40)
        self.setColumnWidth(1, 170)

    def fill(self, rows: list[dict]) -> None:
        """Show ``rows`` (from :func:`tiebreak.core.browse.sql.list_rows`) in list order."""
        self.list_model.set_rows(rows)
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def select_id(self, comparison_id: int) -> None:
        """Highlight the row of ``comparison_id`` (no signal)."""
        for row, r in enumerate(self.list_model.rows):
            if r["comparison_id"] == comparison_id:
                index = self.list_model.index(row, 0)
                blocked = self.blockSignals(True)
                self.selectRow(row)
                self.scrollTo(index)
                self.blockSignals(blocked)
                return
