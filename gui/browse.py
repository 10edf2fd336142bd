"""The Browse screen: any comparison with model names and its verdicts; next / previous; filters."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.browse.choices import BrowseStart, filter_choices, list_rows
from tiebreak.core.browse.items import BrowseCursor
from tiebreak.gui.browse_item import COLUMNS, fill_verdicts, marks_text, start_at
from tiebreak.gui.browse_list import FilterBar, ListView, numbered, refill
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.actions import ShownOnly
from tiebreak.gui.labelling.output_view import OutputPane, ScrollLink
from tiebreak.gui.labelling.render import SafeBrowser, show_text
from tiebreak.gui.safe_text import plain_label
from tiebreak.gui.snapshot_runner import SnapshotRunner
from tiebreak.gui.store_job import JobRunner

ALL = "(all)"
NEXT_KEYS, PREV_KEYS = ("N", "Alt+Right"), ("P", "Alt+Left")


class BrowseScreen(QWidget):
    """Free navigation over all comparisons (not blind: names and verdicts are shown).

    Signals
    -------
    item_shown(int)
        A comparison id was drawn (-1: the filter matches nothing).
    """

    item_shown = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # n / p work as soon as the tab is shown
        self.cursor: BrowseCursor | None = None
        self._stale = False
        self.filters = FilterBar()
        self.generator, self.group = self.filters.generator, self.filters.group
        self.filters.changed.connect(self.apply_filter)
        self.filters.go_to.editingFinished.connect(lambda: self.go_to(self.filters.go_to.value()))
        self.jobs = JobRunner(ctx.store, ctx.db_path, self)  # the list loads off the GUI thread
        self._list_gen, self.list_loading = 0, False
        self.list = ListView()
        self.list.setObjectName("browseList")
        self.list.picked.connect(self.show_id)
        self.marks = QLabel(wordWrap=True)
        self.marks.setObjectName("browseMarks")
        self.marks.setTextFormat(Qt.TextFormat.PlainText)
        self.prev_button = QPushButton(f"◀ Previous [{_keys(PREV_KEYS)}]")
        self.next_button = QPushButton(f"Next ▶ [{_keys(NEXT_KEYS)}]")
        self.position = plain_label()
        self.position.setObjectName("browsePosition")
        self.position.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.position.setMinimumWidth(self.fontMetrics().horizontalAdvance("88,888 / 88,888") + 16)
        self.dataset = plain_label()
        self.instruction = SafeBrowser()
        self.instruction.setObjectName("browseInstruction")
        self.left, self.right = OutputPane("Output 1"), OutputPane("Output 2")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("browseVerdicts")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = plain_label()
        self.empty.setObjectName("browseEmpty")
        self._layout()
        self.prev_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.actions_by_id = {"next": self._action("Next comparison", NEXT_KEYS, self.next),
                              "previous": self._action("Previous comparison", PREV_KEYS, self.previous)}  # fmt: skip
        ShownOnly(self, self.actions_by_id.values())  # a hidden Browse tab never moves
        ctx.events.annotations_changed.connect(self._on_annotations_changed)
        self.starter = SnapshotRunner(self)  # the first list of ids is read off the GUI thread
        self.starter.ready.connect(self._started)
        self.starter.failed.connect(lambda m: (self.ctx.events.status_message.emit(f"Browse: {m}"), self.reload()))
        if ctx.db_path is None:  # an in-memory database has one connection: read here
            self.reload()
        else:
            self.empty.setText("Loading comparisons…")
            self.prev_button.setEnabled(False)
            self.next_button.setEnabled(False)
            self.starter.request(partial(start_at, ctx.db_path, self.filters.value()))

    def _layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.dataset)
        bar.addStretch(1)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.position)
        bar.addWidget(self.next_button)
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.addWidget(self.left)
        columns.addWidget(self.right)
        columns.setChildrenCollapsible(False)
        self._link = ScrollLink(self.left.view.verticalScrollBar(), self.right.view.verticalScrollBar(), self)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(columns)
        body.addWidget(self.table)
        body.setStretchFactor(0, 4)
        body.setStretchFactor(1, 1)
        item = QWidget()
        layout = QVBoxLayout(item)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.empty)
        heading = QHBoxLayout()
        heading.addWidget(QLabel("Instruction"))
        heading.addStretch(1)
        heading.addWidget(self.dataset)
        layout.addLayout(heading)
        layout.addWidget(self.instruction)
        layout.addWidget(body, 1)
        layout.addWidget(self.marks)
        side = QWidget()
        col = QVBoxLayout(side)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.filters)
        col.addWidget(self.list, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(side)
        split.addWidget(item)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        QVBoxLayout(self).addWidget(split)
        self.layout().setContentsMargins(4, 4, 4, 4)

    def _action(self, text: str, keys: tuple[str, ...], slot) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _c=False: slot())
        self.addAction(action)
        return action

    def menu_actions(self) -> list[tuple[str, QAction]]:
        """Next / previous in the Go menu."""
        return [("&Go", self.actions_by_id["next"]), ("&Go", self.actions_by_id["previous"])]

    # -- filters ------------------------------------------------------------------------------
    def reload(self) -> None:
        """Refill the filter lists (new judges or models may exist) and rebuild the list, keeping the item."""
        store = self.ctx.store
        generators, groups, datasets = filter_choices(store)
        refill(self.generator, generators)
        refill(self.group, groups)
        refill(self.filters.dataset, datasets)
        self.apply_filter()

    def apply_filter(self) -> None:
        """Rebuild the list under the chosen filters; stay on the same comparison when it is kept."""
        keep = self.cursor.ids[self.cursor.index] if self.cursor and self.cursor.ids else None
        try:
            self.cursor = BrowseCursor(self.ctx.store, f=self.filters.value())
        except Exception as exc:  # noqa: BLE001 (the status bar, never a crash)
            self.ctx.events.status_message.emit(f"Browse: {exc}")
            return
        self._show_cursor(keep)

    def _started(self, start: BrowseStart) -> None:
        """The first load arrived from the worker (dropped if a reload got there first)."""
        if self.cursor is not None:
            return
        for combo, names in zip((self.generator, self.group, self.filters.dataset), start.choices, strict=True):
            refill(combo, names)
        if self.filters.value() != start.filter:  # a choice vanished meanwhile: list again, here
            self.apply_filter()
            return
        self.cursor = BrowseCursor.from_ids(self.ctx.store, start.filter, start.ids)
        self._show_cursor(None)

    def _show_cursor(self, keep: int | None) -> None:
        """Show the cursor's item (``keep`` when it is listed) and list the rows off the GUI thread."""
        assert self.cursor is not None
        self.filters.go_to.setMaximum(max(self.cursor.total, 1))
        if keep is not None:
            self.cursor.seek(keep)
        self.show_current()
        self._list_gen += 1
        gen, f, self.list_loading = self._list_gen, self.cursor.filter, True
        self.jobs.run(lambda st: numbered(list_rows(st, f)), lambda rows: self._on_rows(rows, gen),
                      lambda m: self.ctx.events.status_message.emit(f"Browse list: {m}"))  # fmt: skip

    def _on_rows(self, rows: list[dict], generation: int) -> None:
        if generation == self._list_gen:  # else a newer filter is being listed
            self.list.fill(rows)
            self.list_loading = False
            if self.cursor is not None and self.cursor.ids:
                self.list.select_id(self.cursor.ids[self.cursor.index])

    def apply_browse(self, browse: dict) -> None:
        """Show what another screen asks for: ``generator`` / ``group`` / ``dataset`` / ``disagreements``,
        or ``ids`` (exactly these comparisons, e.g. a confusion-matrix cell) with a ``title``."""
        self.reload()
        self.filters.set_browse(browse)

    # -- navigation ---------------------------------------------------------------------------
    def show_id(self, comparison_id: int) -> None:
        """Show ``comparison_id`` if the filter contains it (a click in the list)."""
        if self.cursor is not None and self.cursor.seek(comparison_id):
            self.show_current()

    def go_to(self, position: int) -> None:
        """Jump to a 1-based position under the filter (out of range: a status message)."""
        try:
            if self.cursor is not None:
                self.cursor.go_to(position)
                self.show_current()
        except Exception as exc:  # noqa: BLE001 (the status bar, never a crash)
            self.ctx.events.status_message.emit(f"Browse: {exc}")

    def next(self) -> None:
        """Show the next comparison (stays on the last one)."""
        self._step(1)

    def previous(self) -> None:
        """Show the previous comparison (stays on the first one)."""
        self._step(-1)

    def _step(self, step: int) -> None:
        if self.cursor is not None and self.cursor.move(step):
            self.show_current()
        elif self.cursor is not None and self.cursor.total:
            self.ctx.events.status_message.emit("Browse: this is the " + ("last" if step > 0 else "first")
                                                + " comparison under the filter")  # fmt: skip

    def show_current(self) -> None:
        """Draw the comparison at the cursor (or say that the filter matches nothing)."""
        item = self.cursor.current() if self.cursor is not None else None
        total = self.cursor.total if self.cursor is not None else 0
        self.position.setText(f"{item.position:,} / {total:,}" if item else f"0 / {total:,}")
        self.prev_button.setEnabled(bool(item) and item.position > 1)
        self.next_button.setEnabled(bool(item) and item.position < total)
        self.empty.setVisible(item is None)
        if item is None:
            self.empty.setText("No comparison matches these filters.")
            for view in (self.instruction, self.left.view, self.right.view):
                view.clear()
            self.table.setRowCount(0)
            self.item_shown.emit(-1)
            return
        pair = item.pair
        show_text(self.instruction, pair.instruction, raw=False)
        self._fit_instruction()
        self.dataset.setText(f"dataset: {pair.dataset}" if pair.dataset else "")
        self.left.set_header(f"{pair.generator_1} (reference)", len(pair.output_1))
        self.right.set_header(f"{pair.generator_2} (candidate)", len(pair.output_2))
        self.left.show_output(pair.output_1, raw=False)
        self.right.show_output(pair.output_2, raw=False)
        fill_verdicts(self.table, item)
        self.marks.setText(marks_text(item))
        self.list.select_id(pair.comparison_id)
        self.item_shown.emit(pair.comparison_id)

    def _fit_instruction(self) -> None:
        """Instruction box as tall as its text, up to a quarter of the screen (then it scrolls)."""
        doc = self.instruction.document()
        doc.setTextWidth(max(self.instruction.viewport().width(), 200))
        wanted = int(doc.size().height()) + 2 * self.instruction.frameWidth() + 4
        self.instruction.setFixedHeight(max(40, min(wanted, max(self.height() // 4, 120))))

    # -- keeping up with other screens --------------------------------------------------------
    def _on_annotations_changed(self, _change: object) -> None:
        """Labels changed elsewhere: refresh now if visible, else when the tab is shown next."""
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        """Catch up with changes made while hidden."""
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()


def _keys(keys: tuple[str, ...]) -> str:
    return " / ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
