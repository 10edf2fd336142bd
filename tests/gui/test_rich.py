"""Reading aids: code blocks (background, Pygments colours, wrapping), modest headings, in-place word diff."""

from __future__ import annotations

from PySide6.QtGui import QTextFormat

from tiebreak.gui.labelling.render import SafeBrowser, show_text
from tiebreak.gui.labelling.rich import CODE_BACKGROUND, mark_diff

CODE = "Intro\n\n# Big title\n\n```python\ndef f(x):\n    return x * 2  # " + "long " * 60 + "\n```\n\nend"


def _blocks(doc):
    block = doc.begin()
    while block.isValid():
        yield block
        block = block.next()


def _colours(doc, text):
    """Foreground colours of the characters of the block whose text starts with ``text``."""
    block = next(b for b in _blocks(doc) if b.text().startswith(text))
    out, it = set(), block.begin()
    while not it.atEnd():
        out.add(it.fragment().charFormat().foreground().color().name())
        it += 1
    return out


def test_code_blocks_get_a_background_colours_and_wrap(qtbot):
    view = SafeBrowser()
    qtbot.addWidget(view)
    view.resize(400, 300)
    show_text(view, CODE, raw=False)
    doc = view.document()
    code = [b for b in _blocks(doc) if b.blockFormat().hasProperty(QTextFormat.Property.BlockCodeFence)]
    assert len(code) == 2
    assert all(b.blockFormat().background().color().name() == CODE_BACKGROUND[False] for b in code)
    assert not any(b.blockFormat().nonBreakableLines() for b in code)  # long lines wrap
    assert code[1].layout().lineCount() > 1
    assert len(_colours(doc, "def f")) >= 2  # keyword and name are coloured differently
    view.show()
    assert view.horizontalScrollBar().maximum() == 0


def test_headings_in_outputs_are_modest(qtbot):
    view = SafeBrowser()
    qtbot.addWidget(view)
    show_text(view, CODE, raw=False)
    title = next(b for b in _blocks(view.document()) if b.text() == "Big title")
    adjust = title.begin().fragment().charFormat().property(QTextFormat.Property.FontSizeAdjustment)
    assert title.blockFormat().headingLevel() == 1 and adjust == 1  # Qt's markdown gives an h1 +3


def test_word_diff_marks_both_sides_with_one_colour_and_keeps_markdown(qtbot):
    left, right = SafeBrowser(), SafeBrowser()
    show_text(left, "Some **bold** words here", raw=False)
    show_text(right, "Some **bold** verbs here", raw=False)
    assert mark_diff(left.document(), right.document(), "#fff0b3")
    for view, word in ((left, "words"), (right, "verbs")):
        marked = []
        it = view.document().begin().begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.charFormat().property(QTextFormat.Property.UserProperty) == "diff":
                marked.append((frag.text(), frag.charFormat().background().color().name()))
            it += 1
        assert marked == [(word, "#fff0b3")]
        assert "**" not in view.toPlainText()  # still rendered


def test_warm_lexers_on_a_worker_thread_prepares_what_rendering_needs(qtbot):
    import threading

    from tiebreak.gui.labelling import rich

    rich._lexer.cache_clear()
    texts = (CODE, "Some Rust:\n\n~~~ Rust\nfn main() {}\n~~~\n", "no code here, ``` not a fence")
    worker = threading.Thread(target=rich.warm_lexers, args=texts)
    worker.start()
    worker.join()
    assert rich._lexer.cache_info().currsize == 2  # python and rust, nothing for the prose
    hits = rich._lexer.cache_info().hits
    view = SafeBrowser()
    qtbot.addWidget(view)
    show_text(view, CODE, raw=False)  # the GUI thread finds the python lexer built
    assert rich._lexer.cache_info().hits == hits + 1 and rich._lexer.cache_info().misses == 2
