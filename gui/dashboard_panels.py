"""Dashboard panels on :mod:`tiebreak.gui.plots` (hover values, click to browse); each exports PNG, SVG and CSV."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
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

from tiebreak.core.text_safety import csv_frame
from tiebreak.gui.plots import Bar, Point, ScatterPlot

ACCENT, WARM = "#3b6fb6", "#c0504d"
#: Short names of the three verdict categories (0 output_1, 1 tie, 2 output_2), as on the axes.
SHORT = ("ref", "tie", "model")
EMPTY = "no paired labels yet"
Browse = Callable[[Any], dict]


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


class ConfusionPlot(ScatterPlot):
    """3 x 3 counts: judge category (rows, top to bottom) against human category (columns), shaded by count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", "human verdict", "judge verdict", parent)
        self.plot_item.showGrid(x=False, y=False)
        self.plot_item.invertY(True)
        self.set_ticks("bottom", [(k + 0.5, name) for k, name in enumerate(SHORT)])
        self.set_ticks("left", [(k + 0.5, f"judge {name}") for k, name in enumerate(SHORT)])
        self.fix_range((0, 3), (0, 3))

    def draw(self, data: pd.DataFrame, browse: Browse) -> None:
        """Draw the counts; a cell's click sends ``browse((judge_category, human_category))``."""
        if data is None or data.empty:
            self.set_bars([], empty_text=EMPTY)
            return
        counts = data.to_numpy().astype(int)
        top, total = max(1, int(counts.max())), int(counts.sum())
        bars = [Bar(j, i, 1, 1, f"judge {SHORT[i]} · humans {SHORT[j]}",
                    f"{counts[i, j]} comparisons ({_pct(counts[i, j] / max(total, 1))} of {total})\n"
                    f"judge: {data.index[i]}\nhumans: {data.columns[j]}\nclick: browse them",
                    browse((i, j)), ACCENT if i == j else WARM, 0.12 + 0.88 * counts[i, j] / top, str(counts[i, j]))
                for i in range(3) for j in range(3)]  # fmt: skip
        self.set_bars(bars, empty_text=EMPTY)


class CategoryPlot(ScatterPlot):
    """Raw agreement per dataset category: bars with bootstrap 95% whiskers on a 0..1 scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", "raw agreement (95% bootstrap interval)", "", parent)
        self.plot_item.showGrid(x=True, y=False, alpha=0.2)
        self.plot_item.invertY(True)

    def draw(self, data: pd.DataFrame, browse: Browse) -> None:
        """One bar per dataset (top to bottom); a click sends ``browse(dataset)``."""
        rows = [] if data is None else list(data.itertuples())
        bars = [Bar(0, k + 0.2, r.agreement, 0.6, f"{r.dataset} (n={r.n})",
                    f"raw agreement {_pct(r.agreement)}\n95% interval {_pct(r.lower)}–{_pct(r.upper)}\n"
                    "click: browse them", browse(str(r.dataset)), ACCENT)
                for k, r in enumerate(rows)]  # fmt: skip
        self.set_bars(bars, empty_text=EMPTY)
        if rows:
            self.add_whiskers([r.agreement for r in rows], [k + 0.5 for k in range(len(rows))],
                              [r.lower for r in rows], [r.upper for r in rows], beam=0.3)  # fmt: skip
        self.set_ticks("left", [(k + 0.5, _elide(f"{r.dataset} (n={r.n})")) for k, r in enumerate(rows)])
        self.fix_range((0, 1), (0, max(len(rows), 1)))


def _loading_body() -> QWidget:
    label = QLabel("Loading plot…")
    label.setObjectName("panelLoading")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def _elide(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-(limit // 2):]


class CalibrationPlot(ScatterPlot):
    """Mean human outcome against mean judge probability per bin; dots sized by count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", "judge probability (model wins)", "human outcome", parent)

    def draw(self, data: pd.DataFrame, browse: Browse) -> None:
        """A dot per non-empty bin on the diagonal's square; a click sends ``browse(bin)``."""
        self.clear_extras()
        rows = [] if data is None or data.empty else \
            [r for r in data.itertuples() if r.n > 0 and not math.isnan(r.mean_human)]  # fmt: skip
        top = max([r.n for r in rows] or [1])
        self.add_line([0, 1], [0, 1], colour="#999999", width=1, dashed=True)
        if rows:
            self.add_line([r.mean_judge for r in rows], [r.mean_human for r in rows], colour=ACCENT)
        self.set_points([Point(r.mean_judge, r.mean_human, "", f"judge probability in {r.lower:.1f}–{r.upper:.1f}\n"
                               f"n = {r.n}\nclick: browse them", browse(int(r.bin)),
                               size=2 * (3 + 7 * math.sqrt(r.n / top))) for r in rows], empty_text=EMPTY)  # fmt: skip
        self.fix_range((0, 1), (0, 1))


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
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        """Tall enough for every row (the panel does not grow past it beside a plot)."""
        hint = super().sizeHint()
        rows = sum(self.rowHeight(r) for r in range(self.rowCount()))
        return QSize(hint.width(), self.horizontalHeader().height() + rows + 2 * self.frameWidth() + 2)


class PanelGrid(QWidget):
    """Two columns of panels side by side, or one column when narrower than ``two_columns_from`` pixels.

    ``columns`` holds each column's (panel, stretch) pairs; in one column they follow each other.
    """

    def __init__(self, columns: list[list[tuple[QWidget, int]]], two_columns_from: int = 760,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.two_columns_from, self.columns = two_columns_from, 2
        self.outer = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.outer.setContentsMargins(0, 0, 0, 0)
        self._columns = columns
        for column in columns:
            box = QVBoxLayout()
            for panel, stretch in column:
                box.addWidget(panel, stretch)
            self.outer.addLayout(box, 1)

    def fit_width(self, width: int) -> None:
        """Two columns when ``width`` (the space the grid is shown in) holds both side by side, else one."""
        need = sum(max(p.minimumSizeHint().width() for p, _ in col) for col in self._columns) + self.outer.spacing()
        columns = 2 if width >= max(self.two_columns_from, need) else 1
        if columns != self.columns:
            self.columns = columns
            self.outer.setDirection(QBoxLayout.Direction.LeftToRight if columns == 2
                                    else QBoxLayout.Direction.TopToBottom)  # fmt: skip


class Panel(QFrame):
    """A titled panel: header with PNG / SVG (plots) / CSV export buttons, then its body widget."""

    def __init__(self, title: str, body: QWidget | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = title
        self.body: QWidget = body if body is not None else _loading_body()  # None: set_body comes later
        self.data = pd.DataFrame()
        self._browse: Browse | None = None
        self._has_data = False  # set_data was called (a body built later draws it; else it stays blank)
        head = QHBoxLayout()
        label = QLabel(title)
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
        head.addWidget(label, 1)
        self.buttons = {kind: QPushButton(f"{kind.upper()}…") for kind in ("png", "svg", "csv")}
        for kind, button in self.buttons.items():
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip(f"Save this panel as {kind.upper()}")
            button.clicked.connect(lambda _c=False, k=kind: self._ask(k))
            head.addWidget(button)
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 4, 6, 6)
        col.addLayout(head)
        col.addWidget(self.body, 1)
        self.buttons["svg"].setHidden(not isinstance(self.body, ScatterPlot))  # once parented (never a window)

    @property
    def built(self) -> bool:
        """The panel shows its real body (not the "Loading plot…" stand-in)."""
        return self.body.objectName() != "panelLoading"

    def set_body(self, body: QWidget) -> None:
        """Put the real body in place of the stand-in; it draws the data set meanwhile."""
        old, self.body = self.body, body
        self.layout().replaceWidget(old, body)
        old.hide()  # at once: deleted later, it must not paint over the plot meanwhile
        old.deleteLater()
        if self.isVisible():  # in this turn (a layout shows a new child one turn later); else with the panel
            body.show()
        self.buttons["svg"].setHidden(not isinstance(body, ScatterPlot))
        if self._has_data:
            self.set_data(self.data, self._browse)

    def set_data(self, data: pd.DataFrame, browse: Browse | None = None) -> None:
        """The numbers behind the panel (exported as CSV); a plot redraws from them.

        ``browse`` maps what a cell, bar or point stands for to the Browse filter its click sends.
        Before the body is built the data waits for it.
        """
        self.data, self._browse, self._has_data = data, browse, True
        draw = getattr(self.body, "draw", None)
        if callable(draw):
            draw(data, browse or (lambda _key: {}))

    def export_png(self, path: str | Path) -> bool:
        """Save the panel as a PNG picture (a plot: the plot alone, at its size)."""
        if isinstance(self.body, ScatterPlot):
            return self.body.export(path).exists()
        return self.grab().save(str(path), "PNG")

    def export_svg(self, path: str | Path) -> bool:
        """Save the plot as SVG (plots only)."""
        if not isinstance(self.body, ScatterPlot):
            raise ValueError(f"{self.title}: only plots export SVG")
        return self.body.export(path).exists()

    def export_csv(self, path: str | Path) -> None:
        """Save the panel's numbers as CSV."""
        from tiebreak.core.formats.safe_write import write_safely

        index = not isinstance(self.data.index, pd.RangeIndex)
        # the save dialog has asked before replacing a file; a database is never written over
        write_safely(path, lambda fh: csv_frame(self.data).to_csv(fh, index=index), force=True)

    def _ask(self, kind: str) -> None:
        name = self.title.lower().replace(" ", "_").replace("'", "")
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title}", f"{name}.{kind}",
                                              f"{kind.upper()} (*.{kind})")  # fmt: skip
        if path:
            {"png": self.export_png, "svg": self.export_svg, "csv": self.export_csv}[kind](path)
