"""Dashboard panels drawn with QPainter; each exports its picture (PNG) and its numbers (CSV)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

ACCENT = QColor("#3b6fb6")
WARM = QColor("#c0504d")


class Canvas(QWidget):
    """A widget painted from a DataFrame by ``draw(painter, rect)``; shows a note when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = pd.DataFrame()
        self.setMinimumSize(320, 220)

    def set_data(self, data: pd.DataFrame) -> None:
        """New numbers; repaint."""
        self.data = data
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        """Background, then the figure or an "no data" note."""
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().base())
        p.setPen(self.palette().text().color())
        if self.data is None or self.data.empty:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no paired labels yet")
        else:
            self.draw(p, QRectF(self.rect()).adjusted(8, 8, -8, -8))
        p.end()

    def draw(self, p: QPainter, r: QRectF) -> None:
        """Paint the figure inside ``r``."""
        raise NotImplementedError


class ConfusionCanvas(Canvas):
    """3 x 3 counts: judge category (rows) against human category (columns), shaded by count."""

    def draw(self, p: QPainter, r: QRectF) -> None:  # noqa: D102
        left, top = r.left() + 110, r.top() + 34
        cell = min((r.width() - 110) / 3, (r.height() - 34) / 3)
        top_count = max(1, int(self.data.to_numpy().max()))
        short = ["ref", "tie", "model"]
        p.drawText(QRectF(left, r.top(), cell * 3, 16), Qt.AlignmentFlag.AlignCenter, "human verdict")
        for k in range(3):
            p.drawText(QRectF(left + k * cell, r.top() + 16, cell, 16), Qt.AlignmentFlag.AlignCenter, short[k])
            p.drawText(QRectF(r.left(), top + k * cell, 105, cell),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"judge {short[k]}")
        for i in range(3):
            for j in range(3):
                n = int(self.data.iat[i, j])
                shade = QColor(ACCENT if i == j else WARM)
                shade.setAlphaF(0.12 + 0.88 * n / top_count)
                box = QRectF(left + j * cell, top + i * cell, cell - 2, cell - 2)
                p.fillRect(box, shade)
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, str(n))


def _axes(p: QPainter, plot: QRectF, xlabel: str, ylabel: str, *, y_axis: bool = True) -> None:
    """Frame, 0 / 0.5 / 1 ticks on x (and y) and axis labels."""
    p.drawRect(plot)
    for t in (0.0, 0.5, 1.0):
        x = plot.left() + t * plot.width()
        p.drawText(QRectF(x - 20, plot.bottom() + 2, 40, 14), Qt.AlignmentFlag.AlignCenter, f"{t:g}")
        if y_axis:
            y = plot.bottom() - t * plot.height()
            p.drawText(QRectF(plot.left() - 34, y - 7, 30, 14), Qt.AlignmentFlag.AlignRight, f"{t:g}")
    p.drawText(QRectF(plot.left() - 44, plot.bottom() + 16, plot.width() + 88, 14), Qt.AlignmentFlag.AlignCenter, xlabel)
    if ylabel:
        p.save()
        p.translate(plot.left() - 40, plot.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-plot.height() / 2, -14, plot.height(), 14), Qt.AlignmentFlag.AlignCenter, ylabel)
        p.restore()


class CategoryCanvas(Canvas):
    """Agreement per dataset category: bars with bootstrap 95% whiskers on a 0..1 scale."""

    def draw(self, p: QPainter, r: QRectF) -> None:  # noqa: D102
        plot = QRectF(r.left() + 170, r.top(), r.width() - 180, r.height() - 34)
        _axes(p, plot, "raw agreement (95% bootstrap interval)", "", y_axis=False)
        rows = list(self.data.itertuples())
        h = plot.height() / max(len(rows), 1)
        for k, row in enumerate(rows):
            y = plot.top() + k * h
            label = p.fontMetrics().elidedText(f"{row.dataset} (n={row.n})", Qt.TextElideMode.ElideMiddle, 164)
            p.drawText(QRectF(r.left(), y, 164, h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            bar = QRectF(plot.left(), y + h * 0.25, plot.width() * row.agreement, h * 0.5)
            p.fillRect(bar, ACCENT)
            lo, hi = plot.left() + row.lower * plot.width(), plot.left() + row.upper * plot.width()
            mid = y + h / 2
            p.setPen(QPen(self.palette().text().color(), 2))
            p.drawLine(QPointF(lo, mid), QPointF(hi, mid))
            for x in (lo, hi):
                p.drawLine(QPointF(x, mid - h * 0.15), QPointF(x, mid + h * 0.15))
            p.setPen(self.palette().text().color())


class CalibrationCanvas(Canvas):
    """Mean human outcome against mean judge probability per bin; dots sized by count."""

    def draw(self, p: QPainter, r: QRectF) -> None:  # noqa: D102
        side = min(r.width() - 50, r.height() - 36)
        plot = QRectF(r.left() + 46, r.top(), side, side)
        _axes(p, plot, "judge probability (model wins)", "human outcome")
        p.setPen(QPen(QColor("#999999"), 1, Qt.PenStyle.DashLine))
        p.drawLine(plot.bottomLeft(), plot.topRight())
        pts = [row for row in self.data.itertuples() if row.n > 0 and not math.isnan(row.mean_human)]
        top_n = max([row.n for row in pts] or [1])

        def at(row) -> QPointF:
            return QPointF(plot.left() + row.mean_judge * plot.width(), plot.bottom() - row.mean_human * plot.height())

        p.setPen(QPen(ACCENT, 2))
        for a, b in zip(pts, pts[1:], strict=False):
            p.drawLine(at(a), at(b))
        p.setBrush(ACCENT)
        for row in pts:
            radius = 3 + 7 * math.sqrt(row.n / top_n)
            p.drawEllipse(at(row), radius, radius)


class StatTable(QTableWidget):
    """A read-only table of statistics, each cell with its own tooltip (definition and n)."""

    def __init__(self, headers: list[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(headers)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWordWrap(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(headers)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    def set_rows(self, rows: list[list[str]], tips: list[list[str]]) -> None:
        """Show ``rows``; ``tips`` holds a tooltip per cell (empty: none)."""
        self.setRowCount(len(rows))
        for r, (values, row_tips) in enumerate(zip(rows, tips, strict=True)):
            for c, (value, tip) in enumerate(zip(values, row_tips, strict=True)):
                item = QTableWidgetItem(value)
                if tip:
                    item.setToolTip(tip)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)
        self.resizeRowsToContents()


class Panel(QFrame):
    """A titled panel: header with PNG / CSV export buttons, then its body widget."""

    def __init__(self, title: str, body: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title, self.body = title, body
        self.data = pd.DataFrame()
        head = QHBoxLayout()
        label = QLabel(title)
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
        head.addWidget(label, 1)
        self.png_button, self.csv_button = QPushButton("PNG…"), QPushButton("CSV…")
        for b in (self.png_button, self.csv_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            head.addWidget(b)
        self.png_button.clicked.connect(lambda: self._ask("png"))
        self.csv_button.clicked.connect(lambda: self._ask("csv"))
        col = QVBoxLayout(self)
        col.addLayout(head)
        col.addWidget(body, 1)

    def set_data(self, data: pd.DataFrame) -> None:
        """The numbers behind the panel (exported as CSV); canvases repaint from them."""
        self.data = data
        if isinstance(self.body, Canvas):
            self.body.set_data(data)

    def export_png(self, path: str | Path) -> bool:
        """Save the panel as a PNG picture."""
        return self.grab().save(str(path), "PNG")

    def export_csv(self, path: str | Path) -> None:
        """Save the panel's numbers as CSV."""
        from tiebreak.core.formats.safe_write import write_safely

        index = not isinstance(self.data.index, pd.RangeIndex)
        # the save dialog has asked before replacing a file; a database is never written over
        write_safely(path, lambda fh: self.data.to_csv(fh, index=index), force=True)

    def _ask(self, kind: str) -> None:
        name = self.title.lower().replace(" ", "_").replace("'", "")
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title}", f"{name}.{kind}",
                                              f"{kind.upper()} (*.{kind})")  # fmt: skip
        if path:
            self.export_png(path) if kind == "png" else self.export_csv(path)
