"""The Coordinator screen: a crowd round's progress, items below K, flags and quality, with its actions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.crowd.merge import merge_files
from tiebreak.core.crowd.round import create_round
from tiebreak.core.crowd.snapshot import CoordinatorModel, Snapshot
from tiebreak.core.crowd.status import exclude_worker, reissue
from tiebreak.core.errors import TiebreakError
from tiebreak.core.identity import show_pooled_statistics
from tiebreak.core.metrics.lc_refresh import refresh_stale_lc
from tiebreak.gui.context import AppContext
from tiebreak.gui.safe_text import display_name, plain_label
from tiebreak.gui.store_job import JobRunner


def _pct(v: Any) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.0f}%"


def _num(v: Any, fmt: str = "{:.1f}") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


PROGRESS = (("annotator", "Annotator", str), ("assigned", "Assigned", str), ("done", "Done", str),
            ("remaining", "Left", str), ("last_merged", "Last merged", lambda v: (v or "never")[:16].replace("T", " ")),
            ("excluded", "", lambda v: "excluded" if v else ""))  # fmt: skip
QUALITY = (("annotator", "Annotator", str), ("status", "Status", str),
           ("gold_accuracy", "Gold", _pct), ("gold_n", "n", str), ("self_consistency", "Self-consistent", _pct),
           ("left_share", "Left", _pct), ("median_seconds", "Median s", _num),
           ("agreement", "Agreement", _pct), ("ds_accuracy", "Dawid-Skene", _pct), ("reasons", "Why", str))  # fmt: skip
BELOW = (("comparison_id", "Comparison", str), ("n_labels", "Labels", str))
FLAGS = (("annotator", "By", str), ("comparison_id", "Comparison", str), ("note", "Note", lambda v: v or ""),
         ("created_at", "When", lambda v: (v or "")[:16].replace("T", " ")))  # fmt: skip
STATUS_COLORS = {"FLAGGED": QColor("#f8d7da"), "not enough overlap": QColor("#fff3cd")}
MAX_LISTED = 200


def _table(name: str, columns: Sequence[tuple[str, str, Callable[[Any], str]]]) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels([h for _, h, _ in columns])
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    t.setWordWrap(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def _fill(table: QTableWidget, columns: Sequence[tuple[str, str, Callable[[Any], str]]], rows: list[dict]) -> None:
    table.setUpdatesEnabled(False)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        color = STATUS_COLORS.get(str(row.get("status")))
        for c, (key, _h, text) in enumerate(columns):
            item = QTableWidgetItem(text(row.get(key)))
            item.setToolTip(item.text())  # long reasons are cut at small widths
            if color is not None:
                item.setBackground(QBrush(color))
                item.setForeground(QBrush(QColor("#1a1a1a")))
            table.setItem(r, c, item)
    table.setUpdatesEnabled(True)


def _box(title: str, *widgets: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    lay = QVBoxLayout(box)
    for w in widgets:
        lay.addWidget(w)
    return box


class CoordinatorScreen(QWidget):
    """Renders :class:`tiebreak.core.crowd.snapshot.Snapshot`; buttons call the core round functions."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.model, self.jobs = ctx, CoordinatorModel(ctx.store), JobRunner(ctx.store, ctx.db_path, self)
        self.snap: Snapshot | None = None
        self.rounds = QComboBox()
        self.rounds.setMinimumContentsLength(12)
        self.summary = plain_label()  # the round name is typed text: never markup
        self.summary.setObjectName("coordinatorSummary")
        self.summary.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("coordinatorMessage")
        self.message.setWordWrap(True)
        self.show_pooled = QCheckBox("Show pooled statistics to labellers")
        self.progress, self.quality = _table("progressTable", PROGRESS), _table("qualityTable", QUALITY)
        self.below, self.flags = _table("belowTable", BELOW), _table("flagsTable", FLAGS)
        self.buttons = {name: QPushButton(text) for name, text in (
            ("create", "Create round…"), ("merge", "Merge packs…"), ("reissue", "Reissue…"),
            ("exclude", "Exclude selected"), ("refresh", "Refresh"))}  # fmt: skip
        self._layout()
        self.rounds.activated.connect(lambda _i: self.refresh())
        self.show_pooled.toggled.connect(self._set_pooled)
        for name, handler in (("create", self._ask_create), ("merge", self._ask_merge), ("reissue", self._ask_reissue),
                              ("exclude", self._exclude_selected), ("refresh", self.refresh)):  # fmt: skip
            self.buttons[name].clicked.connect(lambda _c=False, h=handler: h())
        ctx.events.annotations_changed.connect(lambda _c: self.refresh() if self.isVisible() else None)
        self.refresh()

    def menu_actions(self) -> list[tuple[str, QAction]]:
        """File ▸ Open annotator pack… (crowd mode in a window of its own)."""
        action = QAction("Open annotator pack…", self)
        action.triggered.connect(self._open_pack)
        return [("&File", action)]

    def _open_pack(self) -> None:
        from tiebreak.gui.crowd_labelling import open_pack_window

        self._pack_window = open_pack_window(self)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Round:"))
        top.addWidget(self.rounds)
        for b in self.buttons.values():
            top.addWidget(b)
        top.addStretch(1)
        top.addWidget(self.show_pooled)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(_box("Items below K", self.below))
        right.addWidget(_box("Flags raised by annotators", self.flags))
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(_box("Progress", self.progress))
        left.addWidget(_box("Quality (gold, self-consistency, position bias, agreement)", self.quality))
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(right)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(body, 1)
        lay.addWidget(self.message)

    # -- rendering ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Take a new snapshot of the chosen round and show it."""
        chosen = self.rounds.currentText() or None
        try:
            self.snap = snap = self.model.snapshot(chosen)
        except TiebreakError as exc:
            self._say(str(exc))
            return
        self.rounds.blockSignals(True)
        self.rounds.clear()
        self.rounds.addItems(snap.rounds)
        if snap.round:
            self.rounds.setCurrentText(snap.round)
        self.rounds.blockSignals(False)
        self.show_pooled.blockSignals(True)
        self.show_pooled.setChecked(snap.show_pooled)
        self.show_pooled.blockSignals(False)
        self.buttons["reissue"].setEnabled(snap.round is not None)
        self.buttons["exclude"].setEnabled(snap.round is not None)
        if snap.status is None:
            self.summary.setText("No crowd round yet. Create one: choose annotators and an overlap K; "
                                 "each annotator gets a pack file to label on their own machine.")  # fmt: skip
            for t in (self.progress, self.quality, self.below, self.flags):
                t.setRowCount(0)
            return
        st = snap.status
        done = sum(a["done"] for a in st.annotators)
        total = sum(a["assigned"] for a in st.annotators)
        n_flagged = int((snap.quality["status"] == "FLAGGED").sum()) if snap.quality is not None else 0
        self.summary.setText(
            f"Round {display_name(st.name)}: {st.n_items} items, {st.overlap} labels each · {done} of {total} assigned "
            f"items done · {len(st.below)} below K · {len(st.flags)} open flag(s) · {n_flagged} annotator(s) flagged"
        )
        _fill(self.progress, PROGRESS, st.annotators)
        _fill(self.quality, QUALITY, snap.quality.to_dict("records") if snap.quality is not None else [])
        _fill(self.below, BELOW, st.below[:MAX_LISTED])
        _fill(self.flags, FLAGS, st.flags[:MAX_LISTED])

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        """Refresh when the tab comes to the front (another tab may have merged)."""
        super().showEvent(event)
        if self.snap is not None:
            self.refresh()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.ctx.events.status_message.emit(text)

    # -- actions (each one core call; dialogs only collect the arguments) -----------------------
    def create(self, name: str, workers: list[str], overlap: int, out_dir: str, **kwargs: Any) -> bool:
        """Create a round and write its packs; errors are shown, never raised."""
        return self._run(lambda: create_round(self.ctx.store, name, workers, overlap, out_dir, **kwargs),
                         lambda made: f"Round {name}: {len(made.packs)} packs written to {out_dir}", name)  # fmt: skip

    def merge(self, paths: list[str]) -> bool:
        """Merge packs / events files and say what each file gave."""
        def done(report: Any) -> str:
            bad = [f"{f.path}: {f.message}" for f in report.files if not f.ok]
            new = sum(f.n_new for f in report.files if f.ok)
            return f"Merged {len(report.files) - len(bad)} file(s), {new} new event(s)" + (
                f"; NOT merged: {'; '.join(bad)}" if bad else "")

        ok = self._run(lambda: merge_files(self.ctx.store, paths), done)
        if ok and self.ctx.db_path is not None:  # refit the LC panels the labels made stale, off the GUI thread
            self.jobs.run(refresh_stale_lc, lambda _r: None, lambda _m: None)  # (it never raises: logs)
        self.ctx.events.annotations_changed.emit(None)
        return ok

    def reissue(self, to: str, out_dir: str, from_: str | None = None) -> bool:
        """Write a top-up pack for ``to``."""
        name = self.rounds.currentText()
        return self._run(lambda: reissue(self.ctx.store, name, to, out_dir, from_=from_),
                         lambda res: f"Reissued {res[1]} item(s) to {to}: {res[0]}")  # fmt: skip

    def exclude(self, worker: str, excluded: bool = True) -> bool:
        """Remove a worker from the round (its labels stop counting) or bring it back."""
        name = self.rounds.currentText()
        return self._run(lambda: exclude_worker(self.ctx.store, name, worker, excluded),
                         lambda _r: f"{worker} {'excluded from' if excluded else 'back in'} round {name}")  # fmt: skip

    def _run(self, action: Callable[[], Any], describe: Callable[[Any], str], select: str | None = None) -> bool:
        try:
            result = action()
        except TiebreakError as exc:
            self._say(str(exc))
            return False
        if select:
            self.rounds.addItem(select)
            self.rounds.setCurrentText(select)
        self.refresh()
        self._say(describe(result))
        return True

    def _set_pooled(self, on: bool) -> None:
        show_pooled_statistics(self.ctx.store, on)
        self._say("Labellers " + ("now see" if on else "no longer see") + " pooled statistics")

    def _selected_worker(self) -> str | None:
        for table in (self.quality, self.progress):
            rows = {i.row() for i in table.selectionModel().selectedIndexes()}  # any selected cell counts
            if rows:
                return table.item(min(rows), 0).text()
        for table in (self.quality, self.progress):  # else the row with the keyboard focus
            if 0 <= table.currentRow() < table.rowCount() and table.item(table.currentRow(), 0) is not None:
                return table.item(table.currentRow(), 0).text()
        return None

    def _exclude_selected(self) -> None:
        worker = self._selected_worker()
        if worker is None:
            self._say("Select an annotator in Progress or Quality first")
            return
        excluded = any(a["annotator"] == worker and a["excluded"] for a in (self.snap.status.annotators if self.snap and self.snap.status else []))
        self.exclude(worker, not excluded)

    def _ask_create(self) -> None:
        from tiebreak.gui.coordinator_dialogs import CreateRoundDialog

        dialog = CreateRoundDialog(self)
        if dialog.exec():
            self.create(**dialog.values())

    def _ask_merge(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Merge packs", "", "Packs and events (*.tiebreak *.jsonl);;All files (*)")
        if paths:
            self.merge(paths)

    def _ask_reissue(self) -> None:
        to, ok = QInputDialog.getText(self, "Reissue", "Annotator who gets the top-up pack:")
        if not ok or not to.strip():
            return
        from_, _ = QInputDialog.getText(self, "Reissue", "Take the items of this (removed) annotator — empty: items below K:")
        out = QFileDialog.getExistingDirectory(self, "Folder for the pack")
        if out:
            self.reissue(to.strip(), out, from_.strip() or None)
