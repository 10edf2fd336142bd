"""One output column (header, notice, safe text view) and the scroll link between two columns.

A column holds two text views, one over the other: the document of the next item is installed
in the covered one in idle time (:meth:`OutputPane.stage`), so a vote only raises it instead of
installing (and laying out again) a document while the labeller waits.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollBar,
    QStackedLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from tiebreak.gui.labelling.render import Rendered, SafeBrowser, install, show_diff, show_text
from tiebreak.gui.labelling.style import TextStrip, emphasise
from tiebreak.gui.safe_text import display_name


class OutputPane(QWidget):
    """A titled column showing one output: "Left" / "Right", revealed model name, notices."""

    def __init__(self, side: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.header = TextStrip(1, bold=True)
        self.header.setText(side)
        self.notice = QLabel()
        self.notice.setObjectName("paneNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.hide()
        emphasise(self.notice, panel=True)
        self.show_all_button = QPushButton("Show all")
        self.show_all_button.setObjectName("showAll")
        self.show_all_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the workspace
        self.show_all_button.setToolTip("Lay out the whole output (a very long one may take a while)")
        self.show_all_button.hide()
        self.show_all_button.clicked.connect(self.show_all)
        self.pair = ViewPair()
        notices = QHBoxLayout()
        notices.addWidget(self.notice, 1)
        notices.addWidget(self.show_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addLayout(notices)
        layout.addWidget(self.pair, 1)
        self.rendered = Rendered("plain")
        self._shown: tuple[str, bool] = ("", False)  # (text, raw) on screen, for "Show all"

    @property
    def views(self) -> tuple[SafeBrowser, SafeBrowser]:
        """Both text views (see :class:`ViewPair`)."""
        return self.pair.views

    @property
    def view(self) -> SafeBrowser:
        """The text view on screen."""
        return self.pair.view

    @property
    def spare(self) -> SafeBrowser:
        """The covered text view (where :meth:`stage` installs the next document)."""
        return self.pair.spare

    def stage(self, prepared: tuple[QTextDocument, Rendered]) -> None:
        """Install a document made by ``prepare(pane.spare, ...)`` in the covered view (idle time)."""
        self.pair.stage(prepared[0])

    def unstage(self) -> None:
        """Forget the staged document (it stays in the covered view until the next install)."""
        self.pair.unstage()

    def set_header(self, model: str | None, length: int | None) -> None:
        """Header text: side, then the model name once revealed, then the optional length badge."""
        parts = [self.side]
        if model:
            parts.append(f"— {display_name(model)}")  # bidi-isolated, invisible characters shown
        if length is not None:
            parts.append(f"[{length:,} chars]")
        self.header.setText("  ".join(parts))

    def show_output(self, text: str, raw: bool, prepared: tuple[QTextDocument, Rendered] | None = None) -> Rendered:
        """Render one output (markdown unless raw; or show the ``prepared`` one) and any notice.

        A ``prepared`` document that was staged is shown by raising the spare view.
        """
        self._shown = (text, raw)
        if prepared is None:
            self.pair.unstage()
            self.rendered = show_text(self.view, text, raw)
        else:
            self.pair.show_prepared(prepared[0])
            self.rendered = prepared[1]
        self._notice(self.rendered.notice)
        self.show_all_button.setVisible(self.rendered.capped)
        return self.rendered

    def show_all(self) -> Rendered:
        """Lay out the whole of the output on screen (after a capped rendering)."""
        text, raw = self._shown
        self.pair.unstage()
        self.rendered = show_text(self.view, text, raw, full=True)
        self._notice(self.rendered.notice)
        self.show_all_button.hide()
        return self.rendered

    def show_diff_html(self, diff_html: str) -> None:
        """Show one side of a word diff."""
        self.pair.unstage()
        self.rendered = show_diff(self.view, diff_html)
        self._notice("word diff: highlighted words appear only on this side")
        self.show_all_button.hide()

    def add_notice(self, text: str) -> None:
        """Append a sentence to the notice line (keeps what is already said)."""
        current = self.notice.text()
        self._notice(f"{current} · {text}" if current else text)

    def _notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def scroll_by_pages(self, pages: float) -> None:
        """Scroll the text by a fraction of a page (the partner pane follows)."""
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.value() + int(pages * bar.pageStep()))


class ViewPair(QStackedWidget):
    """Two safe text views, one over the other; ``view`` is on screen, ``spare`` is covered.

    Both stay visible and the shown one is raised: a flip shows or hides nothing, so it asks for
    no relayout (and the covered view still follows resizes); the covered one has updates off,
    so it is never painted. The frame is the pair's: raising a view repaints its text only.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.layout().setStackingMode(QStackedLayout.StackingMode.StackAll)
        self.views = (SafeBrowser(), SafeBrowser())
        for view in self.views:
            view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the workspace
            view.setFrameShape(QFrame.Shape.NoFrame)
            self.addWidget(view)
        self._shown = 0
        self.views[0].raise_()
        self.views[1].setUpdatesEnabled(False)
        self._staged: QTextDocument | None = None  # installed in the spare view, to be shown next

    @property
    def view(self) -> SafeBrowser:
        """The text view on screen."""
        return self.views[self._shown]

    @property
    def spare(self) -> SafeBrowser:
        """The covered text view."""
        return self.views[1 - self._shown]

    def stage(self, doc: QTextDocument) -> None:
        """Install ``doc`` (made by ``prepare(pair.spare, ...)``) in the covered view (idle time)."""
        install(self.spare, doc)
        self.spare.verticalScrollBar().setValue(0)
        self.spare.paint_ahead()
        self._staged = doc

    def unstage(self) -> None:
        """Forget the staged document (it stays in the covered view until the next install)."""
        self._staged = None

    def show_prepared(self, doc: QTextDocument) -> None:
        """Show ``doc``: raise the spare view when it holds it, else install it in the shown view."""
        staged, self._staged = self._staged, None
        if doc is staged or self.spare.installed is doc:
            self._shown = 1 - self._shown
            shown, covered = self.views[self._shown], self.views[1 - self._shown]
            covered.setUpdatesEnabled(False)
            shown.setUpdatesEnabled(True)
            shown.raise_()
        else:
            install(self.view, doc)


class ScrollLink(QObject):
    """Keeps two vertical scroll bars at the same relative position."""

    def __init__(self, a: QScrollBar, b: QScrollBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        a.valueChanged.connect(lambda _v: self._follow(a, b))
        b.valueChanged.connect(lambda _v: self._follow(b, a))

    def _follow(self, source: QScrollBar, target: QScrollBar) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            _follow_bar(source, target)
        finally:
            self._busy = False


class PaneScrollLink(QObject):
    """Keeps the shown views of two :class:`OutputPane` columns at the same relative position."""

    def __init__(self, a: OutputPane, b: OutputPane, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        for pane, other in ((a, b), (b, a)):
            for view in pane.views:
                view.verticalScrollBar().valueChanged.connect(
                    lambda _v, p=pane, o=other, v=view: self._follow(p, o, v)
                )

    def _follow(self, pane: OutputPane, other: OutputPane, view: SafeBrowser) -> None:
        if self._busy or view is not pane.view:  # the covered (spare) view moves nobody
            return
        self._busy = True
        try:
            _follow_bar(view.verticalScrollBar(), other.view.verticalScrollBar())
        finally:
            self._busy = False


def _follow_bar(source: QScrollBar, target: QScrollBar) -> None:
    span = source.maximum() - source.minimum()
    fraction = (source.value() - source.minimum()) / span if span else 0.0
    target.setValue(target.minimum() + round(fraction * (target.maximum() - target.minimum())))
