"""Human-anchored win rates of an audit stream: a table per model and method, warnings above it."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.metrics.definitions import tooltip
from tiebreak.core.review.audit import AuditEstimate, estimate_audit
from tiebreak.gui.safe_text import plain_label

#: column -> the statistic's registry name (tooltips: definition and n).
STATISTIC = {"estimate": "estimate", "lower": "estimate_interval", "upper": "estimate_interval",
             "n_labelled": "n_reviewed", "n_total": "n_population", "lam": "ppi_lambda",
             "more_reviews": "more_reviews"}  # fmt: skip
COLUMNS = [("model", "Model"), ("method", "Method"), ("estimate", "Win rate"), ("lower", "95% low"),
           ("upper", "95% high"), ("n_labelled", "n"), ("n_total", "N"), ("lam", "λ"),
           ("more_reviews", "More reviews"), ("notes", "Notes")]  # fmt: skip


def _cell(key: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if key in ("estimate", "lower", "upper"):
        return f"{100 * value:.1f}%"
    if key == "lam":
        return f"{value:.3f}"
    return str(value)


class EstimatesView(QWidget):
    """Estimate button, target width, label choice; the table of estimates and the warnings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.last: AuditEstimate | None = None  # the estimate shown (None: never estimated)
        self.width_box = QDoubleSpinBox()
        self.width_box.setRange(0.01, 1.0)
        self.width_box.setSingleStep(0.01)
        self.width_box.setValue(0.10)
        self.label = QComboBox()
        self.label.addItems(["blind", "final"])
        self.label.setToolTip("human label: the blind decision (default) or the verdict after the reveal")
        self.button = QPushButton("Estimate win rates")
        self.warnings = plain_label()
        self.warnings.setObjectName("estimateWarnings")
        self.warnings.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([title for _, title in COLUMNS])
        for j, (key, _) in enumerate(COLUMNS):
            if key in STATISTIC:
                self.table.horizontalHeaderItem(j).setToolTip(tooltip(STATISTIC[key]))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        row = QHBoxLayout()
        for w in (QLabel("target interval width"), self.width_box, QLabel("human label"), self.label, self.button):
            row.addWidget(w)
        row.addStretch(1)
        col = QVBoxLayout(self)
        col.addLayout(row)
        col.addWidget(self.warnings)
        col.addWidget(self.table, 1)

    def estimate(self, store, judge: str, audit: str) -> AuditEstimate:
        """Compute and show the estimates of ``audit`` (a stream or a human group)."""
        est = estimate_audit(store, judge, audit, label=self.label.currentText(),
                             target_width=self.width_box.value())
        self.show_estimate(est)
        return est

    def show_estimate(self, est: AuditEstimate) -> None:
        """Fill the table; warnings in bold above it."""
        self.last = est
        self.warnings.setText("\n".join(f"⚠ {w}" for w in est.warnings)
                              or f"{est.audit}: {est.design} design; 95% intervals.")  # fmt: skip
        self.table.setRowCount(len(est.rows))
        for i, rec in enumerate(est.rows):
            for j, (key, _) in enumerate(COLUMNS):
                item = QTableWidgetItem(_cell(key, rec.get(key)))
                if key in STATISTIC:
                    n = rec.get("n_labelled")
                    item.setToolTip(tooltip(STATISTIC[key], None if n is None else int(n), what="reviewed items",
                                            note=f"method: {rec.get('method', '')}"))  # fmt: skip
                if key not in ("model", "method", "notes"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
