"""A small reusable plot on pyqtgraph: labelled points and rectangles (bars, matrix cells), hover values,
click (each point or bar names the items it stands for), lines and whiskers, PNG/SVG export."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
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
    size: float = 10.0  # diameter in pixels


@dataclass(frozen=True)
class Bar:
    """One rectangle in data coordinates (a bar or a matrix cell): hover lines, browse filter, centred text."""

    x0: float
    y0: float
    width: float
    height: float
    label: str
    details: str = ""
    browse: dict = field(default_factory=dict)
    colour: str = PALETTE[0]
    alpha: float = 1.0
    text: str = ""

    def contains(self, x: float, y: float) -> bool:
        """Whether the data point (x, y) lies inside the rectangle."""
        xs, ys = sorted((self.x0, self.x0 + self.width)), sorted((self.y0, self.y0 + self.height))
        return xs[0] <= x <= xs[1] and ys[0] <= y <= ys[1]


class LazyMenuViewBox(pg.ViewBox):
    """A ViewBox whose right-click menu is built at its first use (built with each plot, it cost
    about a third of the plot's construction on the GUI thread)."""

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.state["enableMenu"] = True  # the menu is offered; it is built when first asked for

    def getMenu(self, ev):  # noqa: N802 (pyqtgraph override)
        """The menu, built now if it was never shown."""
        if self.menu is None:
            from pyqtgraph.graphicsItems.ViewBox.ViewBoxMenu import ViewBoxMenu

            self.menu = ViewBoxMenu(self)
            self.updateViewLists()
        return self.menu

    def getContextMenus(self, event):  # noqa: N802 (pyqtgraph override)
        """The menu's actions (for a parent item's context menu)."""
        return self.getMenu(event).actions()


class ScatterPlot(QWidget):
    """A titled scatter plot with a text label beside each point.

    Signals
    -------
    point_clicked(dict)
        The clicked point's or bar's browse filter (e.g. ``{"generator": "m"}``, ``{"ids": [...]}``).
    """

    point_clicked = Signal(dict)

    def __init__(self, title: str, x_label: str, y_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.empty_note = ""
        self.view = pg.PlotWidget(title=title, viewBox=LazyMenuViewBox())
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
        self.bars: list[Bar] = []
        self._labels: list[pg.TextItem] = []
        self._extras: list[pg.GraphicsObject] = []  # bars, their texts, lines, whiskers
        self.hover_text = ""
        self.scatter.sigHovered.connect(self._on_hover)
        self.scatter.sigClicked.connect(self._on_click)
        self.view.scene().sigMouseMoved.connect(self._on_scene_move)
        self.view.scene().sigMouseClicked.connect(self._on_scene_click)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

    def set_points(self, points: Sequence[Point], *, empty_text: str = "nothing to plot") -> None:
        """Replace the points (NaN coordinates are left out and counted in the title)."""
        for item in self._labels:
            self.plot_item.removeItem(item)
        self._labels.clear()
        self.points = [p for p in points if not (math.isnan(p.x) or math.isnan(p.y))]
        spots = [{"pos": (p.x, p.y), "data": k, "brush": pg.mkBrush(PALETTE[p.series % len(PALETTE)]),
                  "size": p.size} for k, p in enumerate(self.points)]  # fmt: skip
        self.scatter.setData(spots)
        for p in self.points:
            if not p.label:
                continue
            text = pg.TextItem(p.label, anchor=(0, 0.5), color="#333")
            text.setPos(p.x, p.y)
            self.plot_item.addItem(text)
            self._labels.append(text)
        left_out = len(points) - len(self.points)
        note = f" ({left_out} without a value)" if left_out else ""
        self._set_title(bool(self.points or self.bars), empty_text, note)
        self.plot_item.enableAutoRange()

    def _set_title(self, drawn: bool, empty_text: str, note: str = "") -> None:
        self.empty_note = "" if drawn else empty_text
        empty = f"{self.title} — {empty_text}" if self.title else empty_text
        self.plot_item.setTitle((self.title + note or None) if drawn else empty)

    def set_bars(self, bars: Sequence[Bar], *, empty_text: str = "nothing to plot") -> None:
        """Replace the rectangles (and the lines and whiskers drawn with them)."""
        self.clear_extras()
        self.bars = [b for b in bars if not any(map(math.isnan, (b.x0, b.y0, b.width, b.height)))]
        if self.bars:
            brushes = []
            for b in self.bars:
                colour = pg.mkColor(b.colour)
                colour.setAlphaF(max(0.0, min(1.0, b.alpha)))
                brushes.append(pg.mkBrush(colour))
            self._keep(pg.BarGraphItem(x0=[b.x0 for b in self.bars], y0=[b.y0 for b in self.bars],
                                       width=[b.width for b in self.bars], height=[b.height for b in self.bars],
                                       brushes=brushes, pen=pg.mkPen("w", width=1)))  # fmt: skip
        for b in self.bars:
            if b.text:
                text = pg.TextItem(b.text, anchor=(0.5, 0.5), color="k")
                text.setPos(b.x0 + b.width / 2, b.y0 + b.height / 2)
                self._keep(text)
        self._set_title(bool(self.points or self.bars), empty_text)

    def _keep(self, item: pg.GraphicsObject) -> None:
        self.plot_item.addItem(item)
        self._extras.append(item)

    def clear_extras(self) -> None:
        """Remove the bars, lines and whiskers."""
        for item in self._extras:
            self.plot_item.removeItem(item)
        self._extras.clear()
        self.bars = []

    def add_line(self, xs: Sequence[float], ys: Sequence[float], *, colour: str = PALETTE[0], width: float = 2,
                 dashed: bool = False) -> None:  # fmt: skip
        """Draw a polyline through (xs, ys) (under the points; removed by :meth:`set_bars`)."""
        style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        line = pg.PlotDataItem(list(xs), list(ys), pen=pg.mkPen(colour, width=width, style=style))
        line.setZValue(-1)
        self._keep(line)

    def add_whiskers(self, x: Sequence[float], y: Sequence[float], lower: Sequence[float], upper: Sequence[float],
                     *, beam: float = 0.3) -> None:  # fmt: skip
        """Horizontal intervals [lower, upper] through (x, y) with end caps ``beam`` high (data units)."""
        import numpy as np

        xs = np.asarray(x, dtype=float)
        self._keep(pg.ErrorBarItem(x=xs, y=np.asarray(y, dtype=float), left=xs - np.asarray(lower, dtype=float),
                                   right=np.asarray(upper, dtype=float) - xs, beam=beam,
                                   pen=pg.mkPen("#222", width=2)))  # fmt: skip

    def set_ticks(self, axis: str, ticks: Sequence[tuple[float, str]]) -> None:
        """Fixed tick labels on ``axis`` ("left" or "bottom"): (value, text) pairs."""
        self.plot_item.getAxis(axis).setTicks([list(ticks)])

    def fix_range(self, x: tuple[float, float], y: tuple[float, float]) -> None:
        """Show exactly this range; no pan or zoom (a matrix or a 0..1 square)."""
        self.plot_item.setMouseEnabled(x=False, y=False)
        self.plot_item.hideButtons()
        self.plot_item.getViewBox().setDefaultPadding(0.04)
        self.plot_item.setRange(xRange=x, yRange=y, padding=0.04)
        self.plot_item.disableAutoRange()

    def describe(self, index: int) -> str:
        """The hover text of point ``index``: its label, coordinates and details."""
        p = self.points[index]
        x_name = self.plot_item.getAxis("bottom").labelText
        y_name = self.plot_item.getAxis("left").labelText
        lines = [p.label, f"{x_name}: {p.x:.4g}", f"{y_name}: {p.y:.4g}", p.details]
        return "\n".join(line for line in lines if line)

    def describe_bar(self, index: int) -> str:
        """The hover text of bar ``index``: its label and details."""
        b = self.bars[index]
        return "\n".join([b.label] + ([b.details] if b.details else []))

    def bar_at(self, x: float, y: float) -> int | None:
        """Index of the bar containing the data point (x, y), or None."""
        return next((k for k, b in enumerate(self.bars) if b.contains(x, y)), None)

    def _hover(self, text: str, pos: QPointF | None) -> None:
        self.hover_text = text
        if not text or pos is None:
            self.hover_label.hide()
            return
        self.hover_label.setText(text)
        box = self.plot_item.getViewBox().sceneBoundingRect()
        at = self.plot_item.getViewBox().mapViewToScene(pos)
        size = self.hover_label.boundingRect()  # pixels: the label ignores the zoom
        # open towards the side with room for the label (rightwards and upwards when both have it)
        right = at.x() + size.width() <= box.right() or at.x() - size.width() < box.left()
        up = at.y() - size.height() >= box.top() or at.y() + size.height() > box.bottom()
        self.hover_label.setAnchor((0 if right else 1, 1 if up else 0))
        self.hover_label.setPos(pos)
        self.hover_label.show()

    def _on_hover(self, _item, spots, _ev) -> None:
        if not len(spots):
            self._hover("", None)
            return
        spot = spots[0]
        self._hover(self.describe(int(spot.data())), spot.pos())

    def _data_pos(self, scene_pos: QPointF) -> QPointF | None:
        vb = self.plot_item.getViewBox()
        return vb.mapSceneToView(scene_pos) if vb.sceneBoundingRect().contains(scene_pos) else None

    def _on_scene_move(self, scene_pos: QPointF) -> None:
        if not self.bars:
            return
        pos = self._data_pos(scene_pos)
        hit = None if pos is None else self.bar_at(pos.x(), pos.y())
        self._hover("" if hit is None else self.describe_bar(hit), pos)

    def _on_scene_click(self, ev) -> None:
        if not self.bars or ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = self._data_pos(ev.scenePos())
        hit = None if pos is None else self.bar_at(pos.x(), pos.y())
        if hit is not None:
            self.click_bar(hit)

    def click_bar(self, index: int) -> None:
        """Emit the browse filter of bar ``index`` (what a mouse click on it does)."""
        self.point_clicked.emit(dict(self.bars[index].browse))

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
