"""The Annotators screen: per-annotator quality of a crowd group and its under-annotated items."""

from __future__ import annotations

import math
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.crowd.groups import (
    AnnotatorsSnapshot,
    annotators_snapshot,
    annotators_snapshot_at,
)
from tiebreak.core.crowd.quality import DEFAULT_OVERLAP, DEFAULT_TOO_FAST, CrowdReport
from tiebreak.gui.context import AppContext
from tiebreak.gui.safe_text import plain_label
from tiebreak.gui.snapshot_runner import SnapshotRunner

#: (frame column, header, text of a value).
COLUMNS = (
    ("annotator", "Annotator", str),
    ("n_labels", "Labels", lambda v: f"{int(v)}"),
    ("n_shared", "Shared items", lambda v: f"{int(v)}"),
    ("tie_share", "Ties", lambda v: f"{100 * v:.0f}%"),
    ("median_seconds", "Median time", lambda v: f"{v:.1f} s"),
    ("agreement", "Agreement w/ others", lambda v: f"{100 * v:.1f}%"),
    ("ds_accuracy", "Dawid-Skene accuracy", lambda v: f"{100 * v:.1f}%"),
    ("note", "Flags", str),
)  # fmt: skip
FAST_COLOR, FEW_COLOR = QColor("#f8d7da"), QColor("#fff3cd")


class AnnotatorsScreen(QWidget):
    """Annotator quality table for one human group, refreshed whenever labels change."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.report: CrowdReport | None = None
        self._stale = False
        self.group = QComboBox()
        self.group.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.overlap = QSpinBox()
        self.overlap.setRange(1, 100)
        self.overlap.setValue(DEFAULT_OVERLAP)
        self.too_fast = QDoubleSpinBox()
        self.too_fast.setRange(0.0, 3600.0)
        self.too_fast.setSuffix(" s")
        self.too_fast.setValue(DEFAULT_TOO_FAST)
        self.summary = plain_label()
        self.summary.setObjectName("annotatorsSummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("annotatorsTable")
        self.table.setHorizontalHeaderLabels([h for _, h, _ in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.notes = QLabel()
        self.notes.setObjectName("annotatorsNotes")
        self.notes.setWordWrap(True)
        self.notes.setTextFormat(Qt.TextFormat.PlainText)
        self.runner = SnapshotRunner(self)  # the figures are computed off the GUI thread
        self.runner.ready.connect(self.apply)
        self.runner.failed.connect(self._show_message)
        self._layout()
        self.group.currentIndexChanged.connect(lambda _i: self.refresh())
        self.overlap.valueChanged.connect(lambda _v: self.refresh())
        self.too_fast.valueChanged.connect(lambda _v: self.refresh())
        ctx.events.annotations_changed.connect(self._on_annotations_changed)
        self.reload()

    def _layout(self) -> None:
        bar = QHBoxLayout()
        for text, widget in (("Group", self.group), ("Target labels per item", self.overlap),
                             ("Too fast below", self.too_fast)):  # fmt: skip
            bar.addWidget(QLabel(text))
            bar.addWidget(widget)
            bar.addSpacing(12)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes)

    def reload(self) -> None:
        """Re-read the human groups (keeping the current choice) and refresh the figures."""
        self.refresh()

    def refresh(self) -> None:
        """Recompute the report for the selected group (off the GUI thread for a file) and show it."""
        args = (self.group.currentText(), self.overlap.value(), self.too_fast.value())
        if self.ctx.db_path is None:  # an in-memory database has one connection: read here
            self.apply(annotators_snapshot(self.ctx.store, *args))
            return
        if self.report is None and not self.table.rowCount():
            self.summary.setText("Loading the annotators' figures…")
        self.runner.request(partial(annotators_snapshot_at, self.ctx.db_path, *args))

    def apply(self, snap: AnnotatorsSnapshot) -> None:
        """Show a snapshot: the groups (the chosen one selected), then its table or why there is none."""
        self.group.blockSignals(True)
        self.group.clear()
        self.group.addItems(snap.groups)
        self.group.setCurrentText(snap.group)
        self.group.blockSignals(False)
        self.report = snap.report
        if snap.report is None:
            self._show_message(snap.message)
        else:
            self._fill(snap.report)

    def _show_message(self, text: str) -> None:
        self.table.setRowCount(0)
        self.summary.setText(text)
        self.notes.setText("")

    def _fill(self, report: CrowdReport) -> None:
        table = report.annotators
        self.table.setRowCount(len(table))
        for r, row in enumerate(table.to_dict("records")):
            color = FAST_COLOR if row["too_fast"] else FEW_COLOR if row["too_few"] else None
            for c, (key, _, fmt) in enumerate(COLUMNS):
                value = row[key]
                text = "—" if isinstance(value, float) and math.isnan(value) else fmt(value)
                item = QTableWidgetItem(("⚠ " if key == "note" and text else "") + text)
                if key != "annotator" and key != "note":
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if color is not None:
                    item.setBackground(QBrush(color))
                    item.setForeground(QBrush(QColor("#212529")))
                self.table.setItem(r, c, item)
        n_under = int((~report.items["reaches_overlap"]).sum())
        self.summary.setText(
            f"{len(table)} annotator(s) in {report.group}: {int(table['too_fast'].sum())} too fast, "
            f"{int(table['too_few'].sum())} with too few shared items. "
            f"Under-annotated items: {n_under} of {len(report.items)} below {report.overlap} label(s)."
        )
        self.notes.setText("\n".join(f"• {n}" for n in report.notes))

    def under_annotated_count(self) -> int:
        """Items of the shown group below the target overlap (0 when nothing is shown)."""
        return 0 if self.report is None else int((~self.report.items["reaches_overlap"]).sum())

    def _on_annotations_changed(self, _change: object) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True  # recomputed when next shown (labelling stays fast)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        """Catch up with changes made while hidden."""
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()
