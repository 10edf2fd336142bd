"""Hostile outputs on screen: capped layout with "Show all", invisible characters visible in raw mode."""

from __future__ import annotations

import pytest

from tiebreak.gui.labelling.output_view import OutputPane
from tiebreak.gui.labelling.render import DISPLAY_LIMIT, LINE_LIMIT, LINES_LIMIT, cap


@pytest.fixture
def pane(qtbot):
    p = OutputPane("Left")
    qtbot.addWidget(p)
    p.resize(800, 600)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_cap_keeps_ordinary_text_whole():
    text = "# Title\n\n" + "A normal answer line.\n" * 100
    assert cap(text) == (text, "")


def test_cap_cuts_long_lines_and_huge_texts():
    shown, notice = cap("x" * 100_000)
    assert len(shown) < LINE_LIMIT + 100 and "98,000 more characters on this line" in shown
    assert "1 long line(s) cut" in notice and "Show all" in notice
    many = "line\n" * 1_000_000
    shown, notice = cap(many)
    assert shown.count("\n") < LINES_LIMIT and f"of {len(many):,} characters" in notice
    wide = ("word " * 100 + "\n") * 10_000
    assert len(cap(wide)[0]) <= DISPLAY_LIMIT + LINE_LIMIT


@pytest.mark.parametrize("raw", [False, True])
def test_pane_lays_out_only_the_head_until_show_all(pane, raw):
    text = "w" * 100_000 + "\nsecond line"
    rendered = pane.show_output(text, raw)
    assert rendered.capped and pane.show_all_button.isVisibleTo(pane)
    assert pane.view.document().characterCount() < 5_000
    assert "more characters on this line" in pane.view.toPlainText()
    pane.show_all()
    assert pane.view.document().characterCount() > 100_000
    assert "w" * 100_000 in pane.view.toPlainText() and not pane.show_all_button.isVisibleTo(pane)
    pane.show_output("short", raw)  # the next output starts capped again if it must
    assert not pane.show_all_button.isVisibleTo(pane)


def test_raw_mode_shows_bidi_overrides_and_zero_width_as_escapes(pane):
    text = "price: 10\u202e0001\u202c USD\u200b and\x1b[2J"
    pane.show_output(text, raw=True)
    shown = pane.view.toPlainText()
    assert "\\u202e" in shown and "\\u202c" in shown and "\\u200b" in shown and "\\x1b" in shown
    assert "\u202e" not in shown and "\u200b" not in shown and "\x1b" not in shown
    pane.show_output(text, raw=False)  # rendered mode shows the text as its author meant
    assert "\u202e" in pane.view.toPlainText()
