"""Reading aids on rendered outputs: code blocks with Pygments colours, modest headings, in-place word diff."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any

from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QTextBlock,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)

from tiebreak.gui.labelling.render import DIFF_TOKEN_LIMIT, tokens

#: Headings of model outputs never exceed the app's own: h1/h2 one step larger than body text.
HEADING_ADJUST = {1: 1, 2: 1}
CODE_BACKGROUND = {False: "#f2f2f2", True: "#2a2d31"}
PYGMENTS_STYLE = {False: "default", True: "monokai"}
#: Above this many characters a code block is not highlighted (it still gets its background).
HIGHLIGHT_LIMIT = 20_000
_FENCE = QTextFormat.Property.BlockCodeFence
_LANGUAGE = QTextFormat.Property.BlockCodeLanguage


def _is_code(block: QTextBlock) -> bool:
    fmt = block.blockFormat()
    return fmt.hasProperty(_FENCE) or fmt.hasProperty(_LANGUAGE) or fmt.nonBreakableLines()


def decorate(doc: QTextDocument, dark: bool = False) -> None:
    """Give code blocks a background, wrapping and syntax colours; make headings modest.

    Parameters
    ----------
    doc : QTextDocument
        A document filled by ``setMarkdown`` (changed in place).
    dark : bool
        Pick colours for a dark palette.
    """
    runs: list[tuple[int, int, str]] = []  # consecutive code blocks: (first pos, end pos, language)
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.headingLevel():
            _modest_heading(doc, block, fmt.headingLevel())
        elif _is_code(block):
            cursor = QTextCursor(block)
            code = fmt
            code.setNonBreakableLines(False)  # long lines wrap instead of scrolling the whole pane
            code.setBackground(QColor(CODE_BACKGROUND[dark]))
            cursor.setBlockFormat(code)
            language = str(fmt.property(_LANGUAGE) or "")
            end = block.position() + block.length() - 1
            if runs and runs[-1][1] + 1 == block.position() and runs[-1][2] == language:
                runs[-1] = (runs[-1][0], end, language)
            else:
                runs.append((block.position(), end, language))
        block = block.next()
    for start, end, language in runs:
        if language and end - start <= HIGHLIGHT_LIMIT:
            _highlight(doc, start, end, language, dark)


def _modest_heading(doc: QTextDocument, block: QTextBlock, level: int) -> None:
    cursor = QTextCursor(block)
    cursor.setPosition(block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    fmt = QTextCharFormat()
    fmt.setProperty(QTextFormat.Property.FontSizeAdjustment, HEADING_ADJUST.get(level, 0))
    fmt.setFontWeight(QFont.Weight.Bold)
    cursor.mergeCharFormat(fmt)


@lru_cache(maxsize=4)
def _token_formats(dark: bool) -> dict[object, QTextCharFormat]:
    from pygments.styles import get_style_by_name

    style = get_style_by_name(PYGMENTS_STYLE[dark])
    formats: dict[object, QTextCharFormat] = {}
    for ttype, spec in style:
        fmt = QTextCharFormat()
        if spec["color"]:
            fmt.setForeground(QBrush(QColor("#" + spec["color"])))
        if spec["bold"]:
            fmt.setFontWeight(QFont.Weight.Bold)
        if spec["italic"]:
            fmt.setFontItalic(True)
        formats[ttype] = fmt
    return formats


@lru_cache(maxsize=64)
def _lexer(language: str) -> Any:
    """Pygments' lexer for ``language`` (None when unknown); looked up once per language."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


_FENCE_LANGUAGE = re.compile(r"^[ \t]*(?:```|~~~)[ \t]*([\w+#.-]+)", re.MULTILINE)


def warm_lexers(*texts: str) -> None:
    """Build, ahead of rendering, the lexers the fenced code blocks of ``texts`` need.

    Compiling a lexer's patterns takes 0.1-0.3 s the first time a language is seen; it is plain
    Python, so a worker thread can do it while the GUI thread draws (the lexers are cached).
    """
    fenced = False
    for text in texts:
        for language in dict.fromkeys(_FENCE_LANGUAGE.findall(text)):
            _lexer(language.strip().lower())
            fenced = True
    if fenced:  # the colour styles are modules too: imported here, not while the GUI thread draws
        from pygments.styles import get_style_by_name

        for name in PYGMENTS_STYLE.values():
            get_style_by_name(name)


def _highlight(doc: QTextDocument, start: int, end: int, language: str, dark: bool) -> None:
    """Colour the code between ``start`` and ``end`` with Pygments' lexer for ``language``."""
    lexer = _lexer(language.strip().lower())
    if lexer is None:
        return  # an unknown language keeps the background only
    cursor = QTextCursor(doc)
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    text = cursor.selectedText().replace("\u2029", "\n")  # one character per block break
    formats = _token_formats(dark)
    pos = start
    for ttype, value in lexer.get_tokens(text):
        while ttype not in formats and ttype.parent is not None:
            ttype = ttype.parent
        fmt = formats.get(ttype)
        if fmt is not None and fmt.foreground().style() != 0 and value.strip():
            cursor.setPosition(pos)
            cursor.setPosition(pos + len(value), QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        pos += len(value)


def mark_diff(left: QTextDocument, right: QTextDocument, colour: str) -> bool:
    """Mark, in place, the words found on one side only, in both rendered documents.

    The documents keep their rendering (markdown, code colours); the same neutral ``colour``
    marks changes on both sides. False (nothing marked) when a side has more than
    DIFF_TOKEN_LIMIT tokens.
    """
    a, b = tokens(left.toPlainText()), tokens(right.toPlainText())
    if max(len(a), len(b)) > DIFF_TOKEN_LIMIT:
        return False
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(colour))
    fmt.setProperty(QTextFormat.Property.UserProperty, "diff")  # tests and screenshots find the marks
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    offsets_a, offsets_b = _offsets(a), _offsets(b)
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            continue
        for doc, offsets, lo, hi in ((left, offsets_a, i1, i2), (right, offsets_b, j1, j2)):
            if hi > lo and "".join((a if doc is left else b)[lo:hi]).strip():
                cursor = QTextCursor(doc)
                cursor.setPosition(offsets[lo])
                cursor.setPosition(offsets[hi], QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(fmt)
    return True


def _offsets(toks: list[str]) -> list[int]:
    out = [0]
    for t in toks:
        out.append(out[-1] + len(t))
    return out
