"""Human-vs-judge dashboard: agreement, kappa, confusion, biases, categories, calibration.

Renders :class:`tiebreak.core.review.dashboard.DashboardSnapshot` objects computed off the GUI
thread. New labels only mark it dirty: it recomputes when shown (or at once when visible), so a
hidden dashboard costs nothing per label. The panels are pyqtgraph plots (hover values, PNG/SVG);
a click on a confusion cell, dataset bar or calibration point emits ``browse_requested`` with
exactly the comparisons it stands for.
"""

from __future__ import annotations

import math
from functools import partial

import pandas as pd
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from tiebreak.core.metrics.definitions import define, tooltip
from tiebreak.core.review.compare import Comparison
from tiebreak.core.review.dashboard import (
    DashboardSnapshot,
    group_choices,
    items_of,
    read_labels,
    snapshot_at,
    summarise,
)
from tiebreak.gui.context import AppContext
from tiebreak.gui.dashboard_panels import (
    SHORT,
    CalibrationPlot,
    CategoryPlot,
    ConfusionPlot,
    Panel,
    PanelGrid,
    StatTable,
)
from tiebreak.gui.plots import ScatterPlot
from tiebreak.gui.safe_text import display_name, plain_label
from tiebreak.gui.slices import Slices
from tiebreak.gui.snapshot_runner import SnapshotRunner

#: compare()'s summary rows -> the statistic's registry name.
SUMMARY_NAMES = {
    "prefers the longer output": "prefers_longer",
    "prefers the output shown first": "prefers_first",
    "position consistency (judged in both orders)": "position_consistency",
    "mean position effect (slot 1, both orders)": "position_effect",
    "win rate of output_2": "win_rate",
}
#: The plot panels, built one per event-loop turn after the screen is up.
PLOTS: dict[str, type[ScatterPlot]] = {"confusion": ConfusionPlot, "datasets": CategoryPlot,
                                       "calibration": CalibrationPlot}  # fmt: skip
_KNOWN = {"agreement", "raw_agreement", "raw_agreement_no_ties", "cohen_kappa", *SUMMARY_NAMES.values()}


def _pct(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}%"


def _num(v: float | None) -> str:
    return "–" if v is None or math.isnan(v) else f"{v:.3f}"


def summary_rows(snap: DashboardSnapshot) -> list[dict]:
    """One dict per statistic: name, judge, human, n_judge, n_human (fractions; the CSV export)."""
    res, a = snap.comparison, snap.agreement
    n = res.n_overlap
    rows = [{"name": "agreement", "judge": None if a is None else a.value, "human": None,
             "n_judge": 0 if a is None else a.n_labels, "n_human": 0 if a is None else a.n_items},
            {"name": "raw_agreement", "judge": res.agreement, "human": None, "n_judge": n, "n_human": n},
            {"name": "raw_agreement_no_ties", "judge": res.agreement_no_ties, "human": None, "n_judge": n, "n_human": n},
            {"name": "cohen_kappa", "judge": res.kappa, "human": None, "n_judge": n, "n_human": n}]  # fmt: skip
    for row in res.summary.itertuples():
        rows.append({"name": SUMMARY_NAMES.get(str(row.metric), str(row.metric)), "judge": row.judge,
                     "human": row.human, "n_judge": int(row.n_judge), "n_human": int(row.n_human)})  # fmt: skip
    for row in rows:
        row["metric"] = define(row["name"]).label if row["name"] in _KNOWN else row["name"]
    return rows


def _cells(row: dict) -> tuple[list[str], list[str]]:
    """Cells and tooltips of one summary row."""
    fmt = _num if row["name"] == "cohen_kappa" else _pct
    name = row["name"]
    if name == "agreement":
        basis = f"{row['n_judge']} judge labels on {row['n_human']} comparisons labelled by both"
        tip = tooltip(name, row["n_judge"], what="judge labels", note=basis)
        return [row["metric"], fmt(row["judge"]), ""], [tip, tip, ""]
    judge_tip = tooltip(name, row["n_judge"], what="comparisons (judge)") if name in _KNOWN else ""
    human_tip = tooltip(name, row["n_human"], what="comparisons (humans)") if name in _KNOWN else ""
    human = "" if row["human"] is None else f"{fmt(row['human'])} (n={row['n_human']})"
    judge = fmt(row["judge"]) if row["human"] is None else f"{fmt(row['judge'])} (n={row['n_judge']})"
    return [row["metric"], judge, human], [judge_tip or row["metric"], judge_tip, human_tip]


class Dashboard(QWidget):
    """Pick a judge group and a human group; the panels follow new labels while visible.

    Signals
    -------
    browse_requested(dict)
        A confusion cell, dataset bar or calibration point was clicked: a Browse filter naming
        exactly its comparisons (``ids``) with a ``title``.
    """

    browse_requested = Signal(dict)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result: Comparison | None = None
        self.snapshot: DashboardSnapshot | None = None
        self.dirty = True
        self.runner = SnapshotRunner(self)
        self.runner.ready.connect(self._show)
        self.runner.failed.connect(self._failed)
        self.judge, self.humans = QComboBox(), QComboBox()
        self.refresh_button = QPushButton("Refresh")
        self.status = plain_label()
        self.status.setWordWrap(True)
        self.summary = StatTable(["statistic", "judge", "humans"])
        self.panels = {
            "summary": Panel("Agreement and biases", self.summary),
            "confusion": Panel("Confusion matrix", None),
            "datasets": Panel("Raw agreement by dataset category", None),
            "calibration": Panel("Calibration", None),
        }
        for panel in self.panels.values():
            panel.setMinimumHeight(220)
        self.build = Slices(self)  # a plot each turn: the first visit never blocks on all three
        self._made: dict[str, ScatterPlot] = {}
        for key, plot in PLOTS.items():  # built in one turn, put in place (and first painted) in the next
            self.build.add(key, partial(self._make_plot, key, plot))
            self.build.add(f"place {key}", partial(self._place_plot, key))
        self._layout()
        self._timer = QTimer(self, singleShot=True, interval=250)
        self._timer.timeout.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.judge.currentTextChanged.connect(lambda _t: self.mark_dirty())
        self.humans.currentTextChanged.connect(lambda _t: self.mark_dirty())
        ctx.events.annotations_changed.connect(lambda _c: self.mark_dirty())
        self.reload_groups()

    def _layout(self) -> None:
        """Pickers and status on top; the panels in a grid that scrolls when the window is short."""
        for box in (self.judge, self.humans):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(16)
            box.setMaximumWidth(box.fontMetrics().horizontalAdvance("x" * 48))
        top = QHBoxLayout()
        for w, stretch in ((QLabel("Judge"), 0), (self.judge, 2), (QLabel("Humans"), 0), (self.humans, 1),
                           (self.refresh_button, 0)):  # fmt: skip
            top.addWidget(w, stretch)
        top.addStretch(1)
        p = self.panels
        p["summary"].setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.grid = PanelGrid([[(p["summary"], 0), (p["datasets"], 1)], [(p["confusion"], 1), (p["calibration"], 1)]])
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.grid)
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 6, 6, 6)
        col.addLayout(top)
        col.addWidget(self.status)
        col.addWidget(self.scroll, 1)

    def _make_plot(self, key: str, plot: type[ScatterPlot]) -> None:
        body = self._made[key] = plot()
        body.point_clicked.connect(self._clicked)

    def _place_plot(self, key: str) -> None:
        self.panels[key].set_body(self._made.pop(key))

    def reload_groups(self) -> None:
        """Fill the group pickers (keeps the current choice when it still exists)."""
        for box, names in zip((self.judge, self.humans), group_choices(self.ctx.store), strict=True):
            current = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            if current in names:
                box.setCurrentText(current)
            box.blockSignals(False)
        self.mark_dirty()

    def mark_dirty(self) -> None:
        """Labels or the choice changed: recompute soon when visible, else when next shown."""
        self.dirty = True
        if self.isVisible():
            self._timer.start()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """One column of panels when two would not fit side by side (the column then scrolls)."""
        super().resizeEvent(event)
        margins = self.layout().contentsMargins()
        self.grid.fit_width(event.size().width() - margins.left() - margins.right())

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Recompute on show when something changed while hidden."""
        super().showEvent(event)
        if self.dirty:
            self._timer.start(0)

    def refresh(self) -> None:
        """Recompute every figure off the GUI thread (the newest request wins)."""
        judge, humans = self.judge.currentText(), self.humans.currentText()
        self.dirty = False
        if not judge or not humans:
            self.status.setText("Needs a judge group and a human group: import labels, or review judge "
                                "verdicts in the Review tab.")  # fmt: skip
            self._clear()
            return
        if self.ctx.db_path is not None:
            compute = partial(snapshot_at, self.ctx.db_path, judge, humans)
        else:  # an in-memory database has one connection: read here, compute in the worker
            compute = partial(summarise, read_labels(self.ctx.store, judge, humans), judge, humans)
        self.status.setText(f"{display_name(judge)} vs {display_name(humans)}: computing…")
        if self.build.busy:  # the plots first: building them beside the computation (one interpreter) stalled the window
            self.build.add("compute", partial(self.runner.request, compute))
        else:
            self.runner.request(compute)

    def _failed(self, message: str) -> None:
        self.status.setText(f"Dashboard: {message}")
        self.ctx.events.status_message.emit(f"Dashboard: {message}")

    def _clear(self) -> None:
        self.build.add("clear", self._clear_now)  # after any plot of an earlier snapshot still queued

    def _clear_now(self) -> None:
        self.result = self.snapshot = None
        for panel in self.panels.values():
            panel.set_data(pd.DataFrame())
        self.summary.set_rows([], [])

    def _show(self, snap: DashboardSnapshot) -> None:
        """Render one snapshot (numbers, tooltips with definitions and n): the table at once, then a
        plot per event-loop turn after the plots are built (three plots drawn in one turn stalled
        the window for over 100 ms); the snapshot counts as shown when its last plot is drawn."""
        res = snap.comparison
        rows = summary_rows(snap)
        cells = [_cells(r) for r in rows]
        self.summary.set_rows([c[0] for c in cells], [c[1] for c in cells])
        self.panels["summary"].set_data(pd.DataFrame(rows, columns=["metric", "name", "judge", "human", "n_judge", "n_human"]))
        n = res.n_overlap
        for key, name, data in (("confusion", "confusion", res.confusion),
                                ("datasets", "agreement_by_dataset", res.by_dataset),
                                ("calibration", "calibration", res.calibration)):  # fmt: skip
            self.build.add(f"draw {key}", partial(self._draw_panel, key, data, tooltip(name, n, what="comparisons labelled by both")))
        self.build.add("shown", partial(self._shown, snap))

    def _draw_panel(self, key: str, data: pd.DataFrame, tip: str) -> None:
        self.panels[key].set_data(data, lambda k, panel=key: {"panel": panel, "key": k})
        self.panels[key].setToolTip(tip)

    def _shown(self, snap: DashboardSnapshot) -> None:
        self.snapshot, self.result = snap, snap.comparison
        agree = "" if snap.agreement is None else f" Agreement {_pct(snap.agreement.value)}."
        self.status.setText(f"{snap.judge} vs {snap.humans}: {snap.comparison.n_overlap} comparisons labelled by both."
                            f"{agree}" + "".join(f"  Note: {note}." for note in snap.comparison.notes))  # fmt: skip

    def browse_filter(self, panel: str, key: object) -> dict:
        """The Browse filter of what a click on ``panel`` at ``key`` stands for (exactly its comparisons).

        ``panel`` is "confusion" (key: (judge category, human category), 0 ref, 1 tie, 2 model),
        "datasets" (key: the dataset) or "calibration" (key: the bin).
        """
        snap = self.snapshot
        if snap is None:
            return {}
        pair = f"{display_name(snap.judge)} vs {display_name(snap.humans)}"
        if panel == "confusion":
            i, j = key  # type: ignore[misc]
            ids = items_of(snap, judge_category=i, human_category=j)
            title = f"Judge says {SHORT[i]}, humans say {SHORT[j]} ({pair})"
        elif panel == "datasets":
            ids, title = items_of(snap, dataset=key), f"Dataset {key}, labelled by both ({pair})"
        else:
            row = snap.comparison.calibration.iloc[int(key)]  # type: ignore[call-overload]
            ids = items_of(snap, calibration_bin=int(key))
            title = f"Judge probability {row['lower']:.1f}–{row['upper']:.1f} ({pair})"
        return {"ids": ids, "title": title}

    def _clicked(self, request: dict) -> None:
        if request.get("panel"):
            self.browse_requested.emit(self.browse_filter(request["panel"], request["key"]))
