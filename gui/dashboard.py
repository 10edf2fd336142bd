"""Human-vs-judge dashboard: agreement, kappa, confusion, biases, categories, calibration; live."""

from __future__ import annotations

import math

import pandas as pd
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tiebreak.core.review.compare import Comparison, compare, paired_labels
from tiebreak.gui.context import AppContext
from tiebreak.gui.dashboard_panels import CalibrationCanvas, CategoryCanvas, ConfusionCanvas, Panel
from tiebreak.gui.safe_text import display_name, escape, plain_label


def _pct(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


class Dashboard(QWidget):
    """Pick a judge group and a human group; every panel follows new labels within a moment."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result: Comparison | None = None
        self.judge, self.humans = QComboBox(), QComboBox()
        self.refresh_button = QPushButton("Refresh")
        self.status = plain_label()
        self.status.setWordWrap(True)
        self.summary_text = QLabel()
        self.summary_text.setTextFormat(Qt.TextFormat.RichText)
        self.summary_text.setWordWrap(True)
        self.panels = {
            "summary": Panel("Agreement and biases", self.summary_text),
            "confusion": Panel("Confusion matrix", ConfusionCanvas()),
            "datasets": Panel("Agreement by dataset category", CategoryCanvas()),
            "calibration": Panel("Calibration", CalibrationCanvas()),
        }
        top = QHBoxLayout()
        for w in (QLabel("Judge"), self.judge, QLabel("Humans"), self.humans, self.refresh_button):
            top.addWidget(w)
        top.addStretch(1)
        grid = QGridLayout()
        for k, key in enumerate(self.panels):
            grid.addWidget(self.panels[key], k // 2, k % 2)
        col = QVBoxLayout(self)
        col.addLayout(top)
        col.addWidget(self.status)
        col.addLayout(grid, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.judge.currentTextChanged.connect(lambda _t: self._timer.start())
        self.humans.currentTextChanged.connect(lambda _t: self._timer.start())
        ctx.events.annotations_changed.connect(lambda _c: self._timer.start())
        self.reload_groups()

    def reload_groups(self) -> None:
        """Fill the group pickers (keeps the current choice when it still exists)."""
        groups = self.ctx.store.groups()
        for box, kind in ((self.judge, "judge"), (self.humans, "human")):
            current = box.currentText()
            names = [g["group"] for g in groups if g["kind"] == kind]
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            if current in names:
                box.setCurrentText(current)
            box.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Recompute every figure from the store (one query; a few ms for thousands of labels)."""
        judge, humans = self.judge.currentText(), self.humans.currentText()
        if not judge or not humans:
            self.status.setText("Needs a judge group and a human group: import labels, or review judge "
                                "verdicts in the Review tab.")  # fmt: skip
            self._show(None)
            return
        try:
            ann = self.ctx.store.annotations_frame(groups=[judge, humans], with_texts=False)
            self._show(compare(paired_labels(ann, judge, humans)))
        except Exception as exc:  # noqa: BLE001 (shown, never a crash)
            self.status.setText(f"Dashboard: {exc}")
            self.ctx.events.status_message.emit(f"Dashboard: {exc}")
            return
        self.status.setText(f"{display_name(judge)} vs {display_name(humans)}: {self.result.n_overlap} comparisons labelled by both."
                            + "".join(f"  Note: {n}." for n in self.result.notes))  # fmt: skip

    def _show(self, res: Comparison | None) -> None:
        self.result = res
        if res is None:
            for panel in self.panels.values():
                panel.set_data(pd.DataFrame())
            self.summary_text.setText("")
            return
        head = pd.DataFrame([
            {"metric": "raw agreement (with ties)", "judge": res.agreement, "n_judge": res.n_overlap},
            {"metric": "raw agreement (without ties)", "judge": res.agreement_no_ties, "n_judge": res.n_overlap},
            {"metric": "Cohen's kappa", "judge": res.kappa, "n_judge": res.n_overlap},
        ])  # fmt: skip
        summary = pd.concat([head, res.summary], ignore_index=True)
        self.panels["summary"].set_data(summary)
        kappa = "–" if res.kappa is None or math.isnan(res.kappa) else f"{res.kappa:.3f}"
        lines = [f"<tr><td>Raw agreement, with ties</td><td><b>{_pct(res.agreement)}</b></td><td></td></tr>",
                 f"<tr><td>Raw agreement, without ties</td><td><b>{_pct(res.agreement_no_ties)}</b></td><td></td></tr>",
                 f"<tr><td>Cohen's kappa</td><td><b>{kappa}</b></td><td></td></tr>",
                 "<tr><td></td><td><i>judge</i></td><td><i>humans</i></td></tr>"]  # fmt: skip
        for row in res.summary.itertuples():
            lines.append(f"<tr><td>{escape(row.metric)}</td><td>{_pct(row.judge)} (n={row.n_judge})</td>"
                         f"<td>{_pct(row.human)} (n={row.n_human})</td></tr>")
        self.summary_text.setText(f"<table cellpadding='4'>{''.join(lines)}</table>"
                                  f"<p>{res.n_overlap} comparisons labelled by both.</p>")  # fmt: skip
        self.panels["confusion"].set_data(res.confusion)
        self.panels["datasets"].set_data(res.by_dataset)
        self.panels["calibration"].set_data(res.calibration)
