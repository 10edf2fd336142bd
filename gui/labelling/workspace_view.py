"""Layout of the labelling workspace: instruction, two columns, reveal strip, buttons, progress."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from tiebreak.core.labelling.session import Shown
from tiebreak.gui.labelling.actions import ActionSpec
from tiebreak.gui.labelling.output_view import OutputPane, PaneScrollLink, ViewPair
from tiebreak.gui.labelling.render import Rendered, prepare, release_retired, show_text
from tiebreak.gui.labelling.rich import mark_diff
from tiebreak.gui.labelling.stats_panel import StatsPanel
from tiebreak.gui.labelling.style import ProgressStrip, TextStrip, emphasise
from tiebreak.gui.safe_text import plain_label


class RationaleBox(QPlainTextEdit):
    """Free-text rationale. Esc leaves it; Ctrl+Enter keeps the text and leaves.

    Signals
    -------
    leave()
        The user is done typing (focus goes back to the workspace).
    """

    leave = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setPlaceholderText("Rationale (optional): R or Tab to type · Esc leaves · Ctrl+Enter keeps it")
        self.setMaximumHeight(self.fontMetrics().lineSpacing() * 3 + 12)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        """Esc and Ctrl+Enter leave the box; everything else is typing."""
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if event.key() == Qt.Key.Key_Escape or (
            ctrl and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self.leave.emit()
            return
        super().keyPressEvent(event)


#: The statistics panel is never narrower than this, nor than its longest line at the current font.
STATS_MIN_WIDTH = 280
STATS_WIDEST_LINE = "tie good 0 · tie bad 0 · can't judge 0"


class WorkspaceView(QWidget):
    """Widgets of the workspace and how an item is drawn; no decisions are made here."""

    PAGE_ITEM, PAGE_EMPTY = 0, 1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.instruction = ViewPair()  # .view is the instruction's text view
        self.instruction.setObjectName("instruction")
        self.left, self.right = OutputPane("Left"), OutputPane("Right")
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.addWidget(self.left)
        columns.addWidget(self.right)
        columns.setChildrenCollapsible(False)
        columns.setSizes([1, 1])
        self._link = PaneScrollLink(self.left, self.right, self)
        self.reveal = TextStrip(2, bold=True, panel=True,
                                placeholder="After each vote, the model names of that item are shown here.")
        self.reveal_area = QVBoxLayout()  # modes (review) add their reveal panel here
        self.rationale = RationaleBox()
        self.buttons = QHBoxLayout()  # answers
        self.tool_buttons = QHBoxLayout()  # everything else
        self.progress_label = TextStrip(1, bold=True, align=Qt.AlignmentFlag.AlignRight)
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.progress = ProgressStrip()
        self.empty = plain_label()
        self.empty.setObjectName("emptyQueue")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        emphasise(self.empty, scale=1.4)
        item_page = QWidget()
        page = QVBoxLayout(item_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addWidget(QLabel("Instruction"))
        page.addWidget(self.instruction)
        page.addWidget(columns, 1)
        self.pages = QStackedWidget()
        self.pages.addWidget(item_page)
        self.pages.addWidget(self.empty)
        self.identity = QLabel()  # who is labelling, always in view
        self.identity.setObjectName("identity")
        self.identity.setTextFormat(Qt.TextFormat.PlainText)
        emphasise(self.identity, bold=True, scale=1.25)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.identity)
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        main = QWidget()
        col = QVBoxLayout(main)
        col.addLayout(progress_row)
        col.addWidget(self.pages, 1)
        col.addWidget(self.reveal)
        col.addLayout(self.reveal_area)
        col.addWidget(self.rationale)
        col.addLayout(self.buttons)
        col.addLayout(self.tool_buttons)
        self.stats = StatsPanel()
        # scrolls when the window is short: many models and judges never set the window's height
        self.stats_area = QScrollArea()
        self.stats_area.setWidget(self.stats)
        self.stats_area.setWidgetResizable(True)
        self.stats_area.setFrameShape(QFrame.Shape.NoFrame)
        self.stats_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(main)
        split.addWidget(self.stats_area)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setSizes([4000, 1000])  # 4:1, within the minimum widths (the statistics get a fifth)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self.button_widgets: dict[str, QPushButton] = {}
        self._prefetched: tuple[tuple, dict] | None = None
        self._instruction_floor = 0  # the instruction box's height does not go below this (see _fit_instruction)
        self.fix_text_sizes()

    def fix_text_sizes(self) -> None:
        """Give the progress text a fixed width, so new numbers repaint it alone (no relayout).

        Called again after a font change (sizes follow the font).
        """
        fm = self.progress_label.fontMetrics()
        self.progress_label.setFixedWidth(fm.horizontalAdvance("  88,888 / 88,888") + 12)
        # the statistics panel grows with the font (its longest line never wraps) and the window (1/5)
        # (the area keeps room for its scroll bar; the session lines wrap in the narrower panel)
        width = max(STATS_MIN_WIDTH, fm.horizontalAdvance(STATS_WIDEST_LINE) + 16)
        self.stats_area.setMinimumWidth(width)
        self.stats.setMinimumWidth(width - self.stats_area.verticalScrollBar().sizeHint().width())

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Re-fix label sizes when the font changes (Ctrl+plus / Ctrl+minus)."""
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._instruction_floor = 0
            self.fix_text_sizes()

    def add_button(self, spec: ActionSpec, trigger, checkable: bool) -> QPushButton:
        """A button with its keys printed on it, e.g. ``Left is better [← / 1]``."""
        button = QPushButton(f"{spec.text}\n[{spec.key_label}]")
        button.setObjectName(f"button_{spec.id}")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setCheckable(checkable)
        button.setToolTip(spec.help)
        button.clicked.connect(lambda _c=False: trigger())
        (self.buttons if spec.menu == "&Label" else self.tool_buttons).addWidget(button)
        self.button_widgets[spec.id] = button
        return button

    def show_item(self, shown: Shown, *, raw: bool, diff: bool, lengths: bool, colors: tuple[str, str]) -> None:
        """Draw one comparison blind (no model names)."""
        self.pages.setCurrentIndex(self.PAGE_ITEM)
        docs = self._take_prefetch(shown, raw) if not diff else self.drop_prefetch()
        if docs:
            self.instruction.show_prepared(docs["instruction"][0])
        else:
            self.instruction.unstage()
            show_text(self.instruction.view, shown.pair.instruction, raw)
        self._fit_instruction()
        self.left.set_header(None, len(shown.left) if lengths else None)
        self.right.set_header(None, len(shown.right) if lengths else None)
        self.left.show_output(shown.left, raw, docs["left"] if docs else None)
        self.right.show_output(shown.right, raw, docs["right"] if docs else None)
        if diff:  # marked in place: the outputs keep their rendering (markdown, code colours)
            marked = mark_diff(self.left.view.document(), self.right.view.document(), colors[0])
            for pane in (self.left, self.right):
                if marked:
                    pane.rendered = Rendered("diff", pane.rendered.notice)
                    pane.add_notice("word diff: marked words appear only on this side")
                else:
                    pane.add_notice("too long for a word diff: shown without it")
        self.set_progress(shown.position - 1, shown.total)

    def prefetch(self, shown: Shown, raw: bool) -> bool:
        """Prepare the documents of the item shown next (idle time), so a vote only swaps them.

        False when the next instruction first needed a taller box: the box grew now, in idle time
        (not inside the vote), and the caller prefetches again once the layout has settled.
        """
        self.drop_prefetch()
        for view in (*self.instruction.views, *self.left.views, *self.right.views):
            release_retired(view)
        instruction = prepare(self.instruction.spare, shown.pair.instruction, raw)
        if self._fit_instruction(instruction[0]):
            instruction[0].deleteLater()  # prepared again at the new size
            return False
        docs = {"instruction": instruction,
                "left": prepare(self.left.spare, shown.left, raw),
                "right": prepare(self.right.spare, shown.right, raw)}  # fmt: skip
        self._prefetched = ((shown.pair.comparison_id, shown.swapped, raw), docs)
        self.instruction.stage(docs["instruction"][0])
        self.left.stage(docs["left"])
        self.right.stage(docs["right"])
        return True

    def _take_prefetch(self, shown: Shown, raw: bool) -> dict | None:
        if self._prefetched is not None and self._prefetched[0] == (shown.pair.comparison_id, shown.swapped, raw):
            docs = self._prefetched[1]
            self._prefetched = None
            return docs
        return self.drop_prefetch()

    def drop_prefetch(self) -> None:
        """Forget prepared documents that will not be shown (staged ones wait in the spare views)."""
        if self._prefetched is not None:
            self.instruction.unstage()
            self.left.unstage()
            self.right.unstage()
        self._prefetched = None

    def _fit_instruction(self, doc: QTextDocument | None = None) -> bool:
        """Instruction box as tall as the tallest instruction shown so far (``doc``: also the next
        one's), up to a fifth of the workspace (then it scrolls); True when its height changed.

        It grows but does not shrink from item to item (a resize or a font change fits it afresh):
        the columns below keep their place and size, so the next item's documents, laid out and
        painted ahead at that size, are shown as they are (a box that followed each instruction
        moved and resized both columns on most votes with real data).
        """
        doc = doc or self.instruction.view.document()
        width = max(self.instruction.view.viewport().width(), 200)
        if doc.textWidth() != width:  # setDocument laid it out at this width already: no relayout
            doc.setTextWidth(width)
        wanted = max(int(doc.size().height()) + 2 * self.instruction.frameWidth() + 4, self._instruction_floor)
        height = max(40, min(wanted, max(self.height() // 5, 80)))  # small windows keep room for the outputs
        self._instruction_floor = height
        if height == self.instruction.height():
            return False
        self.instruction.setFixedHeight(height)
        return True

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """The instruction box is fitted afresh to the new size."""
        super().resizeEvent(event)
        self._instruction_floor = 0

    def reveal_names(self, shown: Shown, lengths: bool) -> None:
        """Show the model names on the column headers (after the vote, for a held item)."""
        ref = shown.pair.generator_1
        for pane, name, text in ((self.left, shown.left_generator, shown.left),
                                 (self.right, shown.right_generator, shown.right)):  # fmt: skip
            label = f"{name} (reference)" if name == ref else name
            pane.set_header(label, len(text) if lengths else None)

    def show_identity(self, text: str) -> None:
        """Show who is working, e.g. "Labelling as alice" (hidden when empty)."""
        self.identity.setText(text)
        self.identity.setToolTip(f"{text} (File ▸ New labelling session… to change)" if text else "")
        self.identity.setVisible(bool(text))

    def show_empty(self, done: int, total: int) -> None:
        """The queue is finished (or empty)."""
        self.pages.setCurrentIndex(self.PAGE_EMPTY)
        if total == 0:
            self.empty.setText("This queue has no items. Choose other models: File ▸ New labelling session…")
        else:
            self.empty.setText(f"Queue finished: {done} / {total} items done. Thank you!\n\n"
                               "Undo (Backspace) returns to the last item you decided.")  # fmt: skip
        self.set_progress(done, total)

    def set_reveal(self, text: str) -> None:
        """The strip under the columns: what just happened (names after a vote)."""
        self.reveal.setText(text)

    def set_progress(self, done: int, total: int) -> None:
        """Progress ``n / total`` and the bar."""
        self.progress_label.setText(f"{done:,} / {total:,}")
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
