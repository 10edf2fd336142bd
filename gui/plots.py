"""A small reusable scatter plot on pyqtgraph: labelled points, hover values, click, PNG/SVG export."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

pg.setConfigOptions(antialias=True, background="w", foreground="k")

#: Neutral, colour-blind-safe palette (Okabe-Ito) for point series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


@dataclass(frozen=True)
class Point:
    """One plotted point: its position, label, hover lines and the browse filter a click sends."""

    x: float
    y: float
    label: str
    details: str = ""
    browse: dict = field(default_factory=dict)
    series: int = 0


class ScatterPlot(QWidget):
    """A titled scatter plot with a text label beside each point.

    Signals
    -------
    point_clicked(dict)
        The clicked point's browse filter (e.g. ``{"generator": "m"}`` or ``{"group": "g"}``).
    """

    point_clicked = Signal(dict)

    def __init__(self, title: str, x_label: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.empty_note = ""
        self.view = pg.PlotWidget(title=title)
        self.view.setMinimumSize(160, 140)
        self.plot_item = self.view.getPlotItem()
        self.plot_item.setLabel("bottom", x_label)
        self.plot_item.setLabel("left", y_label)
        self.plot_item.showGrid(x=True, y=True, alpha=0.2)
        self.plot_item.getViewBox().setDefaultPadding(0.2)  # room for the labels beside points
        self.scatter = pg.ScatterPlotItem(size=10, hoverable=True, hoverSize=14)
        self.plot_item.addItem(self.scatter)
        self.hover_label = pg.TextItem(anchor=(0, 1), color="k", fill=pg.mkBrush(255, 255, 230, 230))
        self.hover_label.setZValue(10)
        self.hover_label.hide()
        self.plot_item.addItem(self.hover_label, ignoreBounds=True)
        self.points: list[Point] = []
        self._labels: list[pg.TextItem] = []
        self.hover_text = ""
        self.scatter.sigHovered.connect(self._on_hover)
        self.scatter.sigClicked.connect(self._on_click)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

    def set_points(self, points: Sequence[Point], *, empty_text: str = "nothing to plot") -> None:
        """Replace the points (NaN coordinates are left out and counted in the title)."""
        for item in self._labels:
            self.plot_item.removeItem(item)
        self._labels.clear()
        self.points = [p for p in points if not (math.isnan(p.x) or math.isnan(p.y))]
        spots = [{"pos": (p.x, p.y), "data": k, "brush": pg.mkBrush(PALETTE[p.series % len(PALETTE)])}
                 for k, p in enumerate(self.points)]  # fmt: skip
        self.scatter.setData(spots)
        for p in self.points:
            text = pg.TextItem(p.label, anchor=(0, 0.5), color="#333")
            text.setPos(p.x, p.y)
            self.plot_item.addItem(text)
            self._labels.append(text)
        left_out = len(points) - len(self.points)
        self.empty_note = "" if self.points else empty_text
        note = f" ({left_out} without a value)" if left_out else ""
        self.plot_item.setTitle(self.title + note if self.points else f"{self.title} — {empty_text}")
        self.plot_item.enableAutoRange()

    def describe(self, index: int) -> str:
        """The hover text of point ``index``: its label, coordinates and details."""
        p = self.points[index]
        x_name = self.plot_item.getAxis("bottom").labelText
        y_name = self.plot_item.getAxis("left").labelText
        lines = [p.label, f"{x_name}: {p.x:.4g}", f"{y_name}: {p.y:.4g}"]
        return "\n".join(lines + ([p.details] if p.details else []))

    def _on_hover(self, _item, spots, _ev) -> None:
        if not len(spots):
            self.hover_text = ""
            self.hover_label.hide()
            return
        spot = spots[0]
        self.hover_text = self.describe(int(spot.data()))
        self.hover_label.setText(self.hover_text)
        self.hover_label.setPos(spot.pos())
        self.hover_label.show()

    def _on_click(self, _item, spots, _ev) -> None:
        if len(spots):
            self.click(int(spots[0].data()))

    def click(self, index: int) -> None:
        """Emit the browse filter of point ``index`` (what a mouse click on it does)."""
        self.point_clicked.emit(dict(self.points[index].browse))

    def export(self, path: str | Path) -> Path:
        """Save the plot as PNG or SVG (by suffix); returns the path.

        Raises
        ------
        ValueError
            For another suffix.
        """
        from pyqtgraph import exporters

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".png":
            exporter = exporters.ImageExporter(self.plot_item)
        elif suffix == ".svg":  # pyqtgraph's SVGExporter fails on Qt 6.8+ paths: Qt's own generator
            self._export_svg(path)
            return path
        else:
            raise ValueError(f"plot export: {path.name}: use a .png or .svg file name")
        exporter.export(str(path))
        return path

    def _export_svg(self, path: Path) -> None:
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        gen = QSvgGenerator()
        gen.setFileName(str(path))
        gen.setSize(self.view.size())
        gen.setViewBox(self.view.rect())
        gen.setTitle(self.title)
        painter = QPainter(gen)
        try:
            self.view.render(painter)
        finally:
            painter.end()
        if not path.exists():
            raise OSError(f"plot export: could not write {path}")
