"""Live statistics beside the workspace: win rates with intervals, agreement, session figures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.labelling.session import SessionFigures
from tiebreak.gui.labelling.style import TextStrip
from tiebreak.gui.safe_text import display_name, plain_label, plain_tooltip


@dataclass(frozen=True)
class WinRateLine:
    """One row of the win-rate table (fractions; percentages only when shown)."""

    candidate: str
    group: str
    n: int
    win_rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class AgreementLine:
    """Agreement of one judge group with the human labels on the same comparisons."""

    judge: str
    n_overlap: int
    agreement: float | None


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


class _Table(QTableWidget):
    """A read-only table that redraws only the cells whose text changed (cheap per label)."""

    MAX_VISIBLE_ROWS = 10

    def __init__(self, headers: list[str], widest: list[str | None]) -> None:
        """``widest``: the widest text of each column (None: that column takes the rest)."""
        super().__init__(0, len(headers))
        self.setHorizontalHeaderLabels(headers)
        self._widest = widest
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        for column, text in enumerate(widest):
            if text is None:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            else:  # fixed widths: a changed cell never re-measures the column
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        self._fit_columns()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.shown: list[tuple[str, ...]] | None = None  # None: never filled (sizes not set yet)
        self.set_rows([])

    def _fit_columns(self) -> None:
        fm = self.fontMetrics()
        for column, text in enumerate(self._widest):
            if text is not None:
                label = self.horizontalHeaderItem(column).text()
                self.setColumnWidth(column, max(fm.horizontalAdvance(text), fm.horizontalAdvance(label)) + 16)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Column widths follow the font size."""
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._fit_columns()

    def set_rows(self, rows: list[list[str]] | list[tuple[str, ...]]) -> None:
        """Show ``rows``; a new shape rebuilds the table, otherwise only changed cells are set."""
        shown = self.shown
        if shown is None or len(rows) != len(shown) or any(len(a) != len(b) for a, b in zip(rows, shown, strict=True)):
            self.setRowCount(len(rows))
            for r, values in enumerate(rows):
                for c, value in enumerate(values):
                    item = QTableWidgetItem(display_name(value) if c == 0 else value)
                    if c == 0:
                        item.setToolTip(plain_tooltip(value))  # full name when the column elides it
                    self.setItem(r, c, item)
            visible = min(len(rows), self.MAX_VISIBLE_ROWS)
            height = self.horizontalHeader().height() + 2 * self.frameWidth()
            self.setFixedHeight(height + visible * self.verticalHeader().defaultSectionSize() + 2)
        else:
            for r, (new, old) in enumerate(zip(rows, shown, strict=True)):
                if new == old:
                    continue
                for c, (value, before) in enumerate(zip(new, old, strict=True)):
                    if value != before:
                        self.item(r, c).setText(display_name(value) if c == 0 else value)
        self.shown = [tuple(r) for r in rows]


class StatsPanel(QWidget):
    """Formats what it is given; computes nothing (statistics come from ``tiebreak.core.labelling.live``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statsPanel")
        self.win_table = _Table(["candidate", "by", "n", "win rate", "95% CI"],
                                [None, "humans", "8888", "100.0%", "100–100%"])
        self.agree_table = _Table(["judge", "same items", "agreement"], [None, "88888", "100.0%"])
        self.session_label = TextStrip(4)
        self._row_cache: dict[WinRateLine | AgreementLine, tuple[str, ...]] = {}
        self.status = plain_label("statistics: loading…")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        for title, widget in (("Win rate against the reference", self.win_table),
                              ("Human vs judge agreement", self.agree_table),
                              ("This session", self.session_label)):  # fmt: skip
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(widget)
            layout.addWidget(box)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def show_stats(self, wins: Iterable[WinRateLine], agreement: Iterable[AgreementLine]) -> None:
        """Fill the win-rate and agreement tables (rows of unchanged lines are not formatted again)."""
        cache, self._row_cache = self._row_cache, {}
        self.win_table.set_rows([self._row(line, cache) for line in wins])
        agree = [self._row(line, cache) for line in agreement]
        self.agree_table.set_rows(agree)
        self.status.setText("" if agree else "no judge verdicts on the items labelled by humans yet")

    def _row(self, line: WinRateLine | AgreementLine, cache: dict) -> tuple[str, ...]:
        """Cells of one line, from ``cache`` (the previous call's rows) when the line is unchanged."""
        row = cache.get(line)
        if row is None:
            if isinstance(line, WinRateLine):
                ci = "—" if line.low is None else f"{100 * line.low:.0f}–{100 * line.high:.0f}%"
                row = (line.candidate, line.group, str(line.n), _pct(line.win_rate), ci)
            else:
                row = (line.judge, str(line.n_overlap), _pct(line.agreement))
        self._row_cache[line] = row
        return row

    def show_unavailable(self, why: str) -> None:
        """Say why there are no statistics (never an empty panel without a reason)."""
        self.win_table.set_rows([])
        self.agree_table.set_rows([])
        self.status.setText(f"statistics: {why}")

    def show_session(self, figures: SessionFigures, position: int, total: int) -> None:
        """Items done, median active seconds per item, counts by answer."""
        c = figures.counts
        median = "—" if figures.median_seconds is None else f"{figures.median_seconds:.1f} s"
        self.session_label.setText(
            f"items done: {figures.items_done}   (queue {min(position, total)} / {total})\n"
            f"median time per item: {median}\n"
            f"left {c.get('left', 0)} · right {c.get('right', 0)}\n"
            f"tie good {c.get('tie_good', 0)} · tie bad {c.get('tie_bad', 0)}"
            f" · can't judge {c.get('cant_judge', 0)}"
        )
