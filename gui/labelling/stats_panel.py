"""Live statistics beside the workspace: renders core snapshots (win rates, agreement, session), each cell with a tooltip."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.labelling.session import SessionFigures
from tiebreak.core.labelling.stats import AgreementLine, StatsSnapshot, WinRateLine
from tiebreak.core.metrics.definitions import TOO_FEW_LABELS, define, interval_text, tooltip
from tiebreak.gui.labelling.style import TextStrip, emphasise
from tiebreak.gui.safe_text import display_name, plain_label, plain_tooltip


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
        self.tips: list[tuple[str, ...]] = []  # the tooltip text of each shown cell
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

    def set_header_tips(self, tips: Sequence[str]) -> None:
        """Tooltips of the column headers (the statistic's definition)."""
        for column, tip in enumerate(tips):
            self.horizontalHeaderItem(column).setToolTip(tip)

    def set_rows(self, rows: list[list[str]] | list[tuple[str, ...]], tips: Sequence[Sequence[str]] | None = None) -> None:
        """Show ``rows`` (``tips``: a tooltip per cell); a new shape rebuilds the table, else only changed rows are set."""
        tips = tips or [[""] * len(r) for r in rows]
        shown = self.shown
        if shown is None or len(rows) != len(shown) or any(len(a) != len(b) for a, b in zip(rows, shown, strict=True)):
            self.setRowCount(len(rows))
            for r, values in enumerate(rows):
                for c, value in enumerate(values):
                    item = QTableWidgetItem(display_name(value) if c == 0 else value)
                    item.setToolTip(plain_tooltip(tips[r][c] or value))  # the name in full when the column elides it
                    self.setItem(r, c, item)
            visible = min(len(rows), self.MAX_VISIBLE_ROWS)
            height = self.horizontalHeader().height() + 2 * self.frameWidth()
            self.setFixedHeight(height + visible * self.verticalHeader().defaultSectionSize() + 2)
            self.tips = [tuple(t or v for t, v in zip(tr, r, strict=True)) for tr, r in zip(tips, rows, strict=True)]
            self.shown = [tuple(r) for r in rows]
            return
        for r, (new, old) in enumerate(zip(rows, shown, strict=True)):
            if new != old:
                self.set_row(r, new, tips[r])

    def set_row(self, r: int, values: Sequence[str], tips: Sequence[str]) -> None:
        """Show one row of the same shape in place (cells and tooltips that changed only)."""
        old = self.shown[r]
        row_tips = tuple(t or v for t, v in zip(tips, values, strict=True))
        for c, (value, before) in enumerate(zip(values, old, strict=True)):
            item = self.item(r, c)
            if value != before:
                item.setText(display_name(value) if c == 0 else value)
            if row_tips[c] != self.tips[r][c]:  # a name's tip stays when its figures change
                item.setToolTip(plain_tooltip(row_tips[c]))
        self.tips[r] = row_tips
        self.shown[r] = tuple(values)


def _win_cells(line: WinRateLine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Cells and tooltips of one win-rate line."""
    n = line.n
    ci = interval_text(line.low, line.high, n)
    counts = f"{line.n_wins} wins, {line.n_draws} ties, {line.n_wins_base} losses"
    se = "" if line.standard_error is None else f"SE {100 * line.standard_error:.1f} points; "
    note = TOO_FEW_LABELS if ci == TOO_FEW_LABELS else ""
    cells = (line.candidate, line.group, str(n), _pct(line.win_rate), ci)
    tips = (line.candidate, f"labels by the group {line.group!r}",
            tooltip("n_labels", n, note=counts + (f"; {line.n_dropped} unparsed left out" if line.n_dropped else "")),
            tooltip("win_rate", n, note=se + counts),
            tooltip("win_rate_interval", n, note=note))  # fmt: skip
    return cells, tips


def _agree_cells(line: AgreementLine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Cells and tooltips of one agreement line."""
    basis = f"{line.n_overlap} judge labels on {line.n_items} comparisons labelled by both"
    cells = (line.judge, str(line.n_overlap), _pct(line.agreement))
    tips = (line.judge, tooltip("n_judge_labels", line.n_overlap, what="judge labels", note=basis),
            tooltip("agreement", line.n_overlap, what="judge labels", note=basis))  # fmt: skip
    return cells, tips


def _fill(table: _Table, lines: list, shown: list, cells: Callable) -> list:
    """Show ``lines`` in ``table`` (``shown``: the lines on screen): a line that is the same object
    as, or equal to, the one on screen is not formatted again (the live snapshot reuses the objects
    of unchanged lines, so a label formats one or two rows of fifty)."""
    if len(lines) != len(shown):
        rows = [cells(line) for line in lines]
        table.set_rows([r[0] for r in rows], [r[1] for r in rows])
        return lines
    for r, (line, before) in enumerate(zip(lines, shown, strict=True)):
        if line is not before and line != before:
            table.set_row(r, *cells(line))
    return lines


class StatsPanel(QWidget):
    """Renders :class:`~tiebreak.core.labelling.stats.StatsSnapshot` objects; computes nothing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statsPanel")
        self.win_table = _Table(["candidate", "by", *(define(k).label for k in ("n_labels", "win_rate", "win_rate_interval"))],
                                [None, None, "8888", "100.0%", TOO_FEW_LABELS])
        self.win_table.set_header_tips(["the model compared with the reference", "the annotator group",
                                        tooltip("n_labels"), tooltip("win_rate"), tooltip("win_rate_interval")])
        self.agree_table = _Table(["judge", "n", define("agreement").label], [None, "88888", "100.0%"])
        self.agree_table.set_header_tips(["the judge group", tooltip("n_judge_labels"), tooltip("agreement")])
        self.session_label = TextStrip(6)  # 4 lines; room for wrapping in a narrow panel
        self._lines: list[list] = [[], []]  # the lines shown in each table
        self.status = plain_label("statistics: loading…")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        # headings, not group boxes: a box's shaded inside was painted again under every changed line
        for title, widget in (("Win rate against the reference", self.win_table),
                              ("Human vs judge agreement", self.agree_table),
                              ("This session", self.session_label)):  # fmt: skip
            heading = QLabel(title)
            emphasise(heading, bold=True)
            layout.addWidget(heading)
            layout.addWidget(widget)
            layout.addSpacing(heading.fontMetrics().lineSpacing() // 2)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def show_snapshot(self, snapshot: StatsSnapshot) -> None:
        """Render a snapshot of the live statistics."""
        self.show_stats(snapshot.wins, snapshot.agreement)

    def show_stats(self, wins: Iterable[WinRateLine], agreement: Iterable[AgreementLine]) -> None:
        """Fill the win-rate and agreement tables (only lines that changed are formatted and set)."""
        wins = list(wins)
        if len(wins) != len(self._lines[0]):  # new lines: one group only? then its column says nothing
            one_group = len({line.group for line in wins}) <= 1
            if self.win_table.isColumnHidden(1) != one_group:  # (the names get its room in a narrow panel)
                self.win_table.setColumnHidden(1, one_group)
        self._lines[0] = _fill(self.win_table, wins, self._lines[0], _win_cells)
        agree = _fill(self.agree_table, list(agreement), self._lines[1], _agree_cells)
        self._lines[1] = agree
        self.status.setText("" if agree else "no judge verdicts on the items labelled by humans yet")

    def show_unavailable(self, why: str) -> None:
        """Say why there are no statistics (never an empty panel without a reason)."""
        self.win_table.set_rows([])
        self.agree_table.set_rows([])
        self._lines = [[], []]
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
        n = figures.items_done
        self.session_label.setToolTip(f"{tooltip('items_done', n, what='items')}\n\n"
                                      f"{tooltip('median_seconds', n, what='items')}")  # fmt: skip
