"""The plots AlpacaEval users know, drawn from a leaderboards snapshot with :class:`ScatterPlot`."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QScrollArea, QVBoxLayout, QWidget

from tiebreak.core.metrics.boards import BoardsSnapshot
from tiebreak.gui.plots import Point, ScatterPlot

#: key -> (title, x axis, y axis)
PLOTS = {
    "agreement_price": ("Human agreement vs price", "Price [$ / 1,000]", "Human agreement [%]"),
    "agreement_time": ("Human agreement vs time", "Time [s / 1,000]", "Human agreement [%]"),
    "bias_variance": ("Bias vs variance", "Variance [%]", "Bias [%]"),
    "winrate_length": ("Win rate vs average length", "Average length [chars]", "Win rate [%]"),
    "lc_raw": ("LC win rate vs raw win rate", "Win rate [%]", "LC win rate [%]"),
}


def _f(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def evaluator_points(table: pd.DataFrame | None, x: str, y: str) -> list[Point]:
    """One point per evaluator row (humans are series 1, judges series 0); a click browses the group."""
    if table is None:
        return []
    return [
        Point(_f(r[x]), _f(r[y]), str(name), f"n = {int(r['# parsed'])} parsed labels",
              {"group": str(name)}, series=1 if k == 0 else 0)
        for k, (name, r) in enumerate(table.iterrows())
    ]  # fmt: skip


def model_points(panel: pd.DataFrame, group: str, x: str, y: str) -> list[Point]:
    """One point per model of the panel (percent for rates); a click browses that model."""
    out = []
    for key, r in panel.iterrows():
        name = key[0] if isinstance(key, tuple) else str(key)
        xs = _f(r[x]) * (1 if x == "avg_length" else 100)
        out.append(Point(xs, 100 * _f(r[y]), name, f"n = {int(r['n_total'])} labels by {group}",
                         {"generator": name, "group": group}))  # fmt: skip
    return out


class PlotsPage(QWidget):
    """Five scatter plots in a scrolling grid; every click is re-emitted as ``browse_requested``."""

    browse_requested = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plots = {key: ScatterPlot(*spec) for key, spec in PLOTS.items()}
        inner = QWidget()
        grid = QGridLayout(inner)
        for k, plot in enumerate(self.plots.values()):
            plot.setMinimumHeight(240)
            plot.point_clicked.connect(self.browse_requested)
            grid.addWidget(plot, k // 2, k % 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

    def show_snapshot(self, snap: BoardsSnapshot, reference: str | None, group: str | None) -> None:
        """Redraw every plot from ``snap`` (model plots use the selected panel)."""
        ev = snap.evaluators
        no_humans = "no human labels yet"
        self.plots["agreement_price"].set_points(
            evaluator_points(ev, "Price [$/1000 examples]", "Human agreement"), empty_text=no_humans)
        self.plots["agreement_time"].set_points(
            evaluator_points(ev, "Time [seconds/1000 examples]", "Human agreement"), empty_text=no_humans)
        self.plots["bias_variance"].set_points(evaluator_points(ev, "Variance", "Bias"), empty_text=no_humans)
        panel = snap.panel(reference, group) if reference and group else pd.DataFrame()
        wl = model_points(panel, group or "", "avg_length", "win_rate") if not panel.empty else []
        lc = model_points(panel, group or "", "win_rate", "length_controlled_winrate") if not panel.empty else []
        self.plots["winrate_length"].set_points(wl, empty_text="no model labels")
        self.plots["lc_raw"].set_points(lc, empty_text="no model labels")

    def export_all(self, folder: str | Path, suffix: str = ".png") -> list[Path]:
        """Save every plot into ``folder`` as ``<key><suffix>`` (.png or .svg); returns the files."""
        folder = Path(folder)
        return [plot.export(folder / f"{key}{suffix}") for key, plot in self.plots.items()]
