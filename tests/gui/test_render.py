"""Untrusted outputs render safely (nothing fetched, nothing executed) and without freezing."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui._data import REFERENCE, fill_store
from tiebreak.core.labelling.queue import LabelQueue
from tiebreak.core.labelling.session import LabellingSession
from tiebreak.gui.labelling.render import (
    DISPLAY_LIMIT,
    LINE_LIMIT,
    MARKDOWN_LIMIT,
    tokens,
    word_diff,
)
from tiebreak.gui.labelling.workspace import Workspace


@pytest.fixture
def listener():
    """A local TCP port that records whether anything connected to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.setblocking(False)
    yield sock
    sock.close()


def connected(sock) -> bool:
    try:
        sock.accept()[0].close()
        return True
    except BlockingIOError:
        return False


def one_item_workspace(qtbot, ctx_store, text, other="Short answer."):
    from tiebreak.gui.context import AppContext

    ids = fill_store(ctx_store, 1, candidates=("cand-a",), judge=None,
                     outputs={(0, "cand-a"): text, (0, REFERENCE): other})
    with ctx_store.transaction() as tx:
        annotator = tx.annotator_id("alice")
    session = LabellingSession(ctx_store, annotator, LabelQueue(ids, "alice"))
    ws = Workspace(AppContext(store=ctx_store, db_path=None))
    qtbot.addWidget(ws)
    ws.resize(1200, 800)
    ws.show()
    qtbot.waitExposed(ws)
    ws.activateWindow()
    ws.start(session)
    ws.grab()  # lay out and paint everything now
    qtbot.waitUntil(lambda: QApplication.activeWindow() is ws)
    ws.setFocus()
    return ws


def candidate_pane(ws):
    return ws.view.left if ws.session.current().swapped else ws.view.right


def test_html_script_and_remote_images_are_shown_as_text_and_never_fetched(qtbot, store, listener):
    port = listener.getsockname()[1]
    text = (f'<script>alert("x")</script>\n<img src="http://127.0.0.1:{port}/a.png">\n\n'
            f'![remote](http://127.0.0.1:{port}/b.png)\n\n<b>bold?</b> <a href="http://127.0.0.1:{port}/">link</a>')
    ws = one_item_workspace(qtbot, store, text)
    pane = candidate_pane(ws)
    shown = pane.view.toPlainText()
    assert '<script>alert("x")</script>' in shown  # shown literally, not run, not hidden
    assert f'<img src="http://127.0.0.1:{port}/a.png">' in shown
    assert "<b>bold?</b>" in shown
    assert pane.view.blocked >= 1  # the markdown image was requested and refused
    assert "image(s) not loaded" in pane.notice.text()
    qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert not connected(listener)


def test_two_megabyte_output_is_capped_then_shown_in_full_on_request(qtbot, store):
    big = ("A long line of generated text with some words in it. " * 40 + "\n") * 950
    assert len(big) > 2_000_000
    ws = one_item_workspace(qtbot, store, big)
    pane = candidate_pane(ws)
    assert pane.view.document().characterCount() <= DISPLAY_LIMIT + LINE_LIMIT  # only the head is laid out
    assert "Show all" in pane.notice.text() and f"of {len(big):,} characters" in pane.notice.text()
    assert pane.show_all_button.isVisibleTo(pane)
    pane.show_all_button.click()
    assert pane.view.document().characterCount() >= len(big)  # nothing lost: all of it on request
    assert "shown as plain text" in pane.notice.text() and f"{MARKDOWN_LIMIT:,}" in pane.notice.text()
    assert not pane.show_all_button.isVisibleTo(pane)
    qtbot.keyClick(ws, Qt.Key.Key_J)  # scrolling stays responsive
    qtbot.keyClick(ws, Qt.Key.Key_D)  # too long to diff: said, not frozen
    assert "word diff" in pane.notice.text()  # on the laid-out head only, or refused: never the whole 2 MB
    qtbot.keyClick(ws, Qt.Key.Key_1)
    assert ws.session.queue.n_done == 1


def test_rtl_emoji_and_unclosed_code_fence(qtbot, store):
    text = "שלום עולם, مرحبا بالعالم 👋🏽🎉\n\n```python\ndef f():\n    return '<no closing fence>'"
    ws = one_item_workspace(qtbot, store, text)
    shown = candidate_pane(ws).view.toPlainText()
    assert "שלום עולם" in shown and "مرحبا" in shown and "👋🏽" in shown
    assert "return '<no closing fence>'" in shown


def test_word_diff_escapes_and_round_trips():
    left, right = "the <b>cat</b> sat", "the <b>dog</b> sat"
    a, b = word_diff(left, right, "red", "green")
    assert "<b>" not in a and "&lt;b&gt;" in a
    assert '<span style="background-color:red">cat</span>' in a
    assert '<span style="background-color:green">dog</span>' in b
    assert "".join(tokens(left)) == left
    assert word_diff("x " * 30_000, "y", "r", "g") is None


def test_columns_scroll_together(qtbot, store):
    long_a = "\n\n".join(f"Paragraph {i} of the candidate." for i in range(300))
    long_b = "\n\n".join(f"Reference paragraph {i}, a little longer than the other." for i in range(200))
    ws = one_item_workspace(qtbot, store, long_a, other=long_b)
    left, right = ws.view.left.view.verticalScrollBar(), ws.view.right.view.verticalScrollBar()
    assert left.maximum() > 0 and right.maximum() > 0
    qtbot.keyClick(ws, Qt.Key.Key_J)
    qtbot.keyClick(ws, Qt.Key.Key_PageDown)
    assert left.value() > 0 and right.value() > 0
    assert abs(left.value() / left.maximum() - right.value() / right.maximum()) < 0.02
    right.setValue(right.maximum())  # the mouse wheel on the right column moves the left too
    assert left.value() == left.maximum()
    qtbot.keyClick(ws, Qt.Key.Key_K)
    assert left.value() < left.maximum()


MIXED = ("# Heading\n\nSome **bold** text, a [link](http://x.invalid) and a list:\n\n- one\n- two\n\n"
         "```python\ndef f(x):\n    return x * 2  # a long comment " + "word " * 40 + "\n```\n\n" + "Tail. " * 800)


@pytest.mark.parametrize("raw", [False, True])
def test_a_document_painted_ahead_shows_exactly_what_a_paint_would(qtbot, raw):
    from tiebreak.gui.labelling.output_view import ViewPair
    from tiebreak.gui.labelling.render import prepare

    pair = ViewPair()
    qtbot.addWidget(pair)
    pair.resize(520, 360)
    pair.show()
    qtbot.waitExposed(pair)
    doc, _ = prepare(pair.spare, MIXED, raw)
    pair.stage(doc)  # installs it in the covered view and paints it ahead
    view = pair.spare
    pair.show_prepared(doc)
    assert pair.view is view
    assert view.viewport().testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # the picture covers it all
    first = view.viewport().grab().toImage()  # this paint shows the picture painted ahead ...
    assert view.shown_ahead == 1
    assert not view.viewport().testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # later paints fill
    second = view.viewport().grab().toImage()  # ... and this one paints the document
    assert view.shown_ahead == 1
    assert first == second
    bar = view.verticalScrollBar()  # the text is longer than the view: its scroll bar too
    assert bar.isVisible() and bar.maximum() > 0
    first = bar.grab().toImage()
    assert bar.ahead.shown == 1
    second = bar.grab().toImage()
    assert bar.ahead.shown == 1 and first == second


def test_a_picture_painted_ahead_is_not_shown_after_a_scroll_a_resize_or_an_edit(qtbot):
    from tiebreak.gui.labelling.output_view import ViewPair
    from tiebreak.gui.labelling.render import prepare

    pair = ViewPair()
    qtbot.addWidget(pair)
    pair.resize(520, 360)
    pair.show()
    qtbot.waitExposed(pair)
    changes = (lambda v: v.verticalScrollBar().setValue(40),
               lambda v: pair.resize(500, 300),
               lambda v: v.document().firstBlock().setUserState(1) or v.textCursor().insertText("x"))  # fmt: skip
    for change in changes:
        doc, _ = prepare(pair.spare, MIXED, False)
        pair.stage(doc)
        view = pair.spare
        pair.show_prepared(doc)
        qtbot.waitUntil(lambda v=view: v.verticalScrollBar().maximum() > 40)  # the text is taller than the view
        change(view)
        before = view.shown_ahead
        stale = view.viewport().grab().toImage()
        assert view.shown_ahead == before  # painted afresh: the picture was stale ...
        assert not view.viewport().testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        assert stale == view.viewport().grab().toImage()  # ... on its background, as any later paint
