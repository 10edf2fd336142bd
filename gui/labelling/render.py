"""Safe rendering of untrusted outputs: no network, no HTML/script, invisible characters shown in raw
mode, and size caps (with a notice and "Show all") so no output can freeze the window."""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QTextBrowser

from tiebreak.core.text_safety import show_invisible
from tiebreak.gui.labelling.ahead import Ahead, AheadScrollBar

#: Above this many characters markdown is not rendered: the text is shown plain (with a notice).
MARKDOWN_LIMIT = 100_000
#: Characters laid out before the reader asks for "Show all" (the rest is not laid out).
DISPLAY_LIMIT = 30_000
#: A longer line is cut (with a marker) until "Show all": one huge paragraph lays out slowly.
LINE_LIMIT = 2_000
#: Lines laid out before "Show all" (each line is a block with its own layout).
LINES_LIMIT = 300
#: Above this many tokens per side the word diff is not computed (difflib is quadratic).
DIFF_TOKEN_LIMIT = 20_000
#: Replaced documents a view keeps before deleting them during a press (see :func:`install`).
RETIRED_LIMIT = 8
_MD_FEATURES = QTextDocument.MarkdownFeature(
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub.value
    | QTextDocument.MarkdownFeature.MarkdownNoHTML.value
)
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


class SafeBrowser(QTextBrowser):
    """A read-only text view that never fetches a resource and never follows a link.

    Markdown is parsed with raw HTML disabled (tags are shown as text); images and any other
    resource requests are refused and counted in ``blocked``.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.blocked = 0  # resource requests refused so far
        self.installed: QTextDocument | None = None  # the last document from install()
        self.retired: list[QTextDocument] = []  # replaced documents, deleted by release_retired()
        self.setVerticalScrollBar(AheadScrollBar())
        self.ahead = Ahead(self.viewport(), self._ahead_key)  # see paint_ahead

    def paint_ahead(self) -> None:
        """Paint the viewport and the vertical scroll bar now into pictures that their next paints
        draw (idle time, in the covered view; see :class:`~tiebreak.gui.labelling.ahead.Ahead`).

        The viewport's picture is drawn only for the same document object and revision, viewport
        size, scroll position, palette and font; the scroll bar's for the same size, range,
        position and state.
        """
        self.ahead.paint()
        bar = self.verticalScrollBar()
        if bar.isVisibleTo(self):
            bar.ahead.paint()

    def forget_ahead(self) -> None:
        """Drop the pictures painted ahead (a document is being installed)."""
        self.ahead.forget()
        self.verticalScrollBar().ahead.forget()

    @property
    def shown_ahead(self) -> int:
        """Paints of the viewport that drew a picture painted ahead."""
        return self.ahead.shown

    def _ahead_key(self) -> tuple:
        """What the viewport's picture depends on (the document compares by identity)."""
        doc = self.document()
        return (doc, doc.revision(), self.viewport().size().toTuple(), self.verticalScrollBar().value(),
                self.horizontalScrollBar().value(), self.palette().cacheKey(), self.font().key())  # fmt: skip

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """The viewport's next paint after :meth:`paint_ahead` draws its picture when still right."""
        if not self.ahead.draw():
            super().paintEvent(event)

    def loadResource(self, kind: int, url: QUrl | str) -> object:  # noqa: N802 (Qt override)
        """Refuse every resource (remote or local): untrusted text must not touch the network."""
        self.blocked += 1
        return None


@dataclass(frozen=True)
class Rendered:
    """How a text was put on screen and what the reader must be told about it."""

    mode: str  # "markdown" | "plain" | "diff"
    notice: str = ""
    capped: bool = False  # only part of the text is laid out ("Show all" lays out the rest)


def cap(text: str) -> tuple[str, str]:
    """(what to lay out, notice): the text itself and "" when within DISPLAY_LIMIT and LINE_LIMIT,
    else its first DISPLAY_LIMIT characters or LINES_LIMIT lines, every line longer than LINE_LIMIT
    cut (marked).
    Only the part kept is looked at, so a 5 MB text costs no more than a 50 kB one."""
    if len(text) <= LINE_LIMIT or (len(text) <= DISPLAY_LIMIT and text.count("\n") < LINES_LIMIT
                                   and max(map(len, text.split("\n"))) <= LINE_LIMIT):  # fmt: skip
        return text, ""
    out: list[str] = []
    pos = size = cut = 0
    while pos <= len(text) and size < DISPLAY_LIMIT and len(out) < LINES_LIMIT:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos : min(end, pos + LINE_LIMIT)]
        if end - pos > LINE_LIMIT:
            cut += 1
            line += f" … [{end - pos - LINE_LIMIT:,} more characters on this line]"
        out.append(line)
        size += len(line) + 1
        pos = end + 1
    parts = [f"showing {min(pos, len(text)):,} of {len(text):,} characters"] if pos < len(text) else []
    if cut:
        parts.append(f"{cut:,} long line(s) cut at {LINE_LIMIT:,} characters")
    return "\n".join(out), "; ".join(parts) + " (Show all lays out everything)"


def prepare(view: SafeBrowser, text: str, raw: bool, full: bool = False) -> tuple[QTextDocument, Rendered]:
    """Build and lay out the document of ``text`` for ``view`` without showing it yet.

    Markdown unless ``raw`` or longer than MARKDOWN_LIMIT (then plain text with a notice). In
    raw mode control, bidi and zero-width characters are shown as escapes (``\\u202e``).
    Unless ``full``, at most DISPLAY_LIMIT characters and lines of LINE_LIMIT are laid out
    (see :func:`cap`). The document belongs to ``view``, so its resource requests reach
    :meth:`SafeBrowser.loadResource` (refused).
    """
    capped = ""
    if not full:
        text, capped = cap(text)
    if raw:
        text = show_invisible(text)
        if not full and len(text) > DISPLAY_LIMIT:  # the escapes made it longer
            text, again = cap(text)
            capped = capped or again
    doc, rendered = _document(view, text, raw)
    if capped:
        notice = f"{capped} · {rendered.notice}" if rendered.notice else capped
        rendered = Rendered(rendered.mode, notice, capped=True)
    return doc, rendered


def _document(view: SafeBrowser, text: str, raw: bool) -> tuple[QTextDocument, Rendered]:
    doc = QTextDocument(view)
    doc.setDefaultFont(view.font())
    doc.setDocumentMargin(view.document().documentMargin())
    rendered = Rendered("plain")
    if raw:
        doc.setPlainText(text)
    elif len(text) > MARKDOWN_LIMIT:
        doc.setPlainText(text)
        rendered = Rendered("plain", f"{len(text):,} characters: shown as plain text, in full "
                                     f"(markdown is rendered up to {MARKDOWN_LIMIT:,})")  # fmt: skip
    else:
        doc.setMarkdown(text, _MD_FEATURES)
        if any(mark in text for mark in ("```", "~~~", "#", "\n    ", "\n\t")):  # code blocks, headings
            from tiebreak.gui.labelling.rich import decorate

            decorate(doc, dark=view.palette().color(view.palette().ColorRole.Base).lightness() < 128)
        images = count_images(doc) if "![" in text else 0  # raw HTML <img> stays plain text
        rendered = Rendered("markdown", f"{images} image(s) not loaded (nothing is fetched)" if images else "")
    if len(text) <= MARKDOWN_LIMIT:  # lay out now (huge texts lay out lazily while scrolling)
        doc.setTextWidth(view.viewport().width())
        doc.documentLayout().documentSize()
    return doc, rendered


def install(view: SafeBrowser, doc: QTextDocument) -> None:
    """Show ``doc`` in ``view``; the document it replaces (if ``prepare`` made it) is retired.

    Retired documents are deleted by :func:`release_retired` in idle time (so a key press does
    not wait for their deletion), or at once when more than RETIRED_LIMIT are waiting.
    """
    previous = view.installed
    view.forget_ahead()
    view.setDocument(doc)
    view.installed = doc
    if previous is not None and previous is not doc:
        view.retired.append(previous)
        if len(view.retired) > RETIRED_LIMIT:
            release_retired(view)


def release_retired(view: SafeBrowser) -> None:
    """Delete the documents ``view`` no longer shows (call when the app is idle)."""
    for doc in view.retired:
        doc.deleteLater()
    view.retired.clear()


def show_text(view: SafeBrowser, text: str, raw: bool, full: bool = False) -> Rendered:
    """Put ``text`` into ``view`` now (see :func:`prepare`)."""
    doc, rendered = prepare(view, text, raw, full)
    install(view, doc)
    return rendered


def count_images(doc: QTextDocument) -> int:
    """Number of image fragments in ``doc`` (their resources are refused, so say so)."""
    n = 0
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            if it.fragment().charFormat().isImageFormat():
                n += 1
            it += 1
        block = block.next()
    return n


def tokens(text: str) -> list[str]:
    """Words, punctuation and whitespace runs of ``text`` (joining them gives ``text`` back)."""
    return _TOKEN.findall(text)


def word_diff(left: str, right: str, removed: str, added: str) -> tuple[str, str] | None:
    """HTML of both texts with words only on one side highlighted; None when too long.

    Every token is HTML-escaped, so the result carries no markup from the texts themselves.
    """
    a, b = tokens(left), tokens(right)
    if max(len(a), len(b)) > DIFF_TOKEN_LIMIT:
        return None
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out_a: list[str] = []
    out_b: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        chunk_a = html.escape("".join(a[i1:i2]))
        chunk_b = html.escape("".join(b[j1:j2]))
        if op == "equal":
            out_a.append(chunk_a)
            out_b.append(chunk_b)
            continue
        if chunk_a:
            out_a.append(f'<span style="background-color:{removed}">{chunk_a}</span>')
        if chunk_b:
            out_b.append(f'<span style="background-color:{added}">{chunk_b}</span>')
    wrap = '<div style="white-space: pre-wrap">{}</div>'
    return wrap.format("".join(out_a)), wrap.format("".join(out_b))


def show_diff(view: SafeBrowser, diff_html: str) -> Rendered:
    """Put one side of a word diff into ``view``."""
    view.blocked = 0
    view.setHtml(diff_html)
    return Rendered("diff")
