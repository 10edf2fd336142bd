"""One output column (header, notice, safe text view) and the scroll link between two columns."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QScrollBar, QVBoxLayout, QWidget

from gui.labelling.render import Rendered, SafeBrowser, install, show_diff, show_text
from gui.labelling.style import TextStrip, emphasise


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
        self.view = SafeBrowser()
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the workspace
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.notice)
        layout.addWidget(self.view, 1)
        self.rendered = Rendered("plain")

    def set_header(self, model: str | None, length: int | None) -> None:
        """Header text: side, then the model name once revealed, then the optional length badge."""
        parts = [self.side]
        if model:
            parts.append(f"— {model}")
        if length is not None:
            parts.append(f"[{length:,} chars]")
        self.header.setText("  ".join(parts))

    def show_output(self, text: str, raw: bool, prepared: tuple[QTextDocument, Rendered] | None = None) -> Rendered:
        """Render one output (markdown unless raw; or show the ``prepared`` one) and any notice."""
        if prepared is None:
            self.rendered = show_text(self.view, text, raw)
        else:
            install(self.view, prepared[0])
            self.rendered = prepared[1]
        self._notice(self.rendered.notice)
        return self.rendered

    def show_diff_html(self, diff_html: str) -> None:
        """Show one side of a word diff."""
        self.rendered = show_diff(self.view, diff_html)
        self._notice("word diff: highlighted words appear only on this side")

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
            span = source.maximum() - source.minimum()
            fraction = (source.value() - source.minimum()) / span if span else 0.0
            target.setValue(target.minimum() + round(fraction * (target.maximum() - target.minimum())))
        finally:
            self._busy = False
