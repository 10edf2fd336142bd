"""Sortable, filterable item models of the two leaderboards, an interval-bar delegate, the paired matrix."""

from __future__ import annotations

import math

import pandas as pd
from PySide6.QtCore import QModelIndex, QRectF, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
)

from tiebreak.gui.safe_text import plain_tooltip

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
INTERVAL_ROLE = Qt.ItemDataRole.UserRole + 2

#: (header, column of the models table or a callable, kind, tooltip)
MODEL_COLUMNS = [
    ("Model", "model", "text", "Candidate generator (output_2)"),
    ("Win rate", "win_rate", "pct", "AlpacaEval win rate: mean of preference − 1, ties count ½ (%)"),
    ("± SE", "standard_error", "pct", "Standard error of the win rate (%)"),
    ("95% interval", "interval", "interval", "BCa bootstrap interval (Wilson when there is no bootstrap), drawn on 0–100%"),
    ("LC win rate", "length_controlled_winrate", "pct", "Length-controlled win rate (AlpacaEval 2.0 GLM) (%)"),
    ("LC SE", "lc_standard_error", "pct", "Standard error of the LC win rate (%)"),
    ("n", "n_total", "int", "Parsed labels counted"),
    ("Avg length", "avg_length", "int", "Average output length in characters (AlpacaEval avg_length)"),
    ("Note", "note", "text", "What was left out and how LC was computed"),
]  # fmt: skip
#: evaluator columns: judge_metrics's names; percent-scale ones are already percent.
EVAL_TIPS = {
    "Human agreement": "Agreement with the humans' majority (leave-one-out for the humans row), %",
    "Price [$/1000 examples]": "Price of 1,000 annotations (humans: measured seconds × hourly rate)",
    "Time [seconds/1000 examples]": "Seconds for 1,000 annotations",
    "Bias": "Disagreement of the judge's seed majority with the humans' majority (%)",
    "Variance": "Disagreement of single seeds with their majority (%)",
    "Proba. prefer longer": "Probability of preferring the clearly longer output",
    "Proba. prefer lists": "Probability of preferring the output containing a list",
    "Proba. prefer 1": "Probability of preferring output 1 (position bias)",
    "# parsed": "Parsed labels used",
}


def _fmt(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "pct":
        return f"{100 * float(value):.1f}"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "num":
        return f"{float(value):,.0f}" if abs(float(value)) >= 1000 else f"{float(value):.3g}"
    return str(value)


def _item(text: str, sort: object, tip: str = "") -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(sort, SORT_ROLE)
    if tip:
        item.setToolTip(plain_tooltip(tip))
    return item


def _sortable(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return -math.inf
    return value.item() if hasattr(value, "item") else value


def models_model(panel: pd.DataFrame) -> QStandardItemModel:
    """Rows of one (reference, group) panel with display text, sort keys and interval data."""
    model = QStandardItemModel(0, len(MODEL_COLUMNS))
    for c, (head, _key, _kind, tip) in enumerate(MODEL_COLUMNS):
        model.setHeaderData(c, Qt.Orientation.Horizontal, head)
        model.setHeaderData(c, Qt.Orientation.Horizontal, tip, Qt.ItemDataRole.ToolTipRole)
    for key, r in panel.iterrows():
        name = key[0] if isinstance(key, tuple) else str(key)
        row = []
        for _head, col, kind, tip in MODEL_COLUMNS:
            if col == "model":
                row.append(_item(name, name, name))
            elif col == "interval":
                lo, hi = (r.bca_low, r.bca_high) if not math.isnan(r.bca_low) else (r.wilson_low, r.wilson_high)
                text = f"{_fmt(lo, 'pct')}–{_fmt(hi, 'pct')}" if int(r.n_total) > 1 else "too few labels"
                it = _item(text, _sortable(lo), f"{tip}; n = {int(r.n_total)}")
                it.setData((float(lo), float(hi), float(r.win_rate)), INTERVAL_ROLE)
                row.append(it)
            else:
                v = r[col]
                row.append(_item(_fmt(v, kind), _sortable(v), f"{tip}; n = {int(r.n_total)}"))
        model.appendRow(row)
    return model


def evaluators_model(table: pd.DataFrame) -> QStandardItemModel:
    """The evaluator leaderboard (humans row first) as an item model."""
    cols = ["Annotator", *table.columns]
    model = QStandardItemModel(0, len(cols))
    model.setHorizontalHeaderLabels(cols)
    for c, head in enumerate(cols):
        model.setHeaderData(c, Qt.Orientation.Horizontal, EVAL_TIPS.get(head, head), Qt.ItemDataRole.ToolTipRole)
    for name, r in table.iterrows():
        n = f"n = {int(r['# parsed'])}"
        row = [_item(str(name), str(name), str(name))]
        for col in table.columns:
            kind = "int" if col == "# parsed" else "num"
            row.append(_item(_fmt(r[col], kind), _sortable(r[col]), f"{EVAL_TIPS.get(col, col)}; {n}"))
        model.appendRow(row)
    return model


def proxy_for(model: QStandardItemModel) -> QSortFilterProxyModel:
    """A proxy sorting by numeric value and filtering rows on the first column (case-insensitive)."""
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterKeyColumn(0)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    return proxy


class IntervalDelegate(QStyledItemDelegate):
    """Draws an interval as a bar on a 0–100% axis with a tick at the point estimate."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:  # noqa: D102
        data = index.data(INTERVAL_ROLE)
        if not data or any(math.isnan(v) for v in data):
            super().paint(painter, option, index)
            return
        lo, hi, point = data
        r = QRectF(option.rect).adjusted(4, 4, -4, -4)
        painter.save()
        painter.fillRect(r, QColor(238, 238, 238))
        painter.fillRect(QRectF(r.left() + lo * r.width(), r.top() + 2, max((hi - lo) * r.width(), 1), r.height() - 4),
                         QColor(0, 114, 178, 140))  # fmt: skip
        x = r.left() + point * r.width()
        painter.setPen(QColor(0, 0, 0))
        painter.drawLine(int(x), int(r.top()), int(x), int(r.bottom()))
        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, index.data())
        painter.restore()


def fill_paired(widget: QTableWidget, table: pd.DataFrame | None, order: list[str]) -> None:
    """Fill a models × models grid: row − column win-rate difference (points), Holm p in the tooltip.

    Cells whose Holm-adjusted p < 0.05 are bold on a tinted background.
    """
    widget.clear()
    models = order if table is not None else []
    widget.setRowCount(len(models))
    widget.setColumnCount(len(models))
    widget.setHorizontalHeaderLabels(models)
    widget.setVerticalHeaderLabels(models)
    for k, name in enumerate(models):
        widget.horizontalHeaderItem(k).setToolTip(plain_tooltip(name))
        widget.verticalHeaderItem(k).setToolTip(plain_tooltip(name))
    if table is None:
        return
    for rec in table.to_dict(orient="records"):
        for a, b, sign in ((rec["model_a"], rec["model_b"], 1), (rec["model_b"], rec["model_a"], -1)):
            if a not in models or b not in models:
                continue
            diff = sign * rec["diff"]
            item = QTableWidgetItem("—" if math.isnan(diff) else f"{100 * diff:+.1f}")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            p = rec["p_holm"]
            item.setToolTip(plain_tooltip(f"{a} − {b}: {_fmt(diff, 'pct')} points on n = {rec['n']} paired instructions; "
                            f"Holm-adjusted p = {_fmt(p, 'num')}" + (f"; {rec['note']}" if rec["note"] else "")))  # fmt: skip
            if not math.isnan(p) and p < 0.05:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                item.setBackground(QBrush(QColor(0, 114, 178, 60)))
            item.setData(SORT_ROLE, p)
            widget.setItem(models.index(a), models.index(b), item)
    widget.resizeColumnsToContents()


def empty_panel() -> pd.DataFrame:
    """A models panel without rows (before the first snapshot)."""
    cols = ["win_rate", "standard_error", "bca_low", "bca_high", "wilson_low", "wilson_high",
            "length_controlled_winrate", "lc_standard_error", "n_total", "avg_length", "note"]  # fmt: skip
    return pd.DataFrame(columns=cols)


def empty_eval() -> pd.DataFrame:
    """An evaluator table without rows."""
    from tiebreak.core.metrics.judge import COLUMNS, EXTRA_COLUMNS

    return pd.DataFrame(columns=COLUMNS + EXTRA_COLUMNS)


def table_view(proxy: QSortFilterProxyModel) -> QTableView:
    """A sortable, read-only table view over ``proxy`` (no row numbers)."""
    view = QTableView()
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    return view
