"""Helpers that neutralise hostile imported text: bidi, zero-width, terminal escapes, CSV formulas, URLs."""

from __future__ import annotations

import pytest

from tiebreak.core.text_safety import (
    FSI,
    PDI,
    csv_cell,
    display_name,
    redact_url,
    show_invisible,
    terminal_safe,
)


def test_bidi_override_and_zero_width_become_visible_escapes():
    shown = show_invisible("gpt\u202eevil\u202c-4\u200b\ufeff")
    assert shown == "gpt\\u202eevil\\u202c-4\\u200b\\ufeff"
    assert show_invisible("line one\n\tline two") == "line one\n\tline two"  # layout kept
    assert show_invisible("bell\x07 nul\x00") == "bell\\x07 nul\\x00"


def test_display_name_isolates_non_ascii_names_and_folds_lines():
    name = display_name("\u05e9\u05dc\u05d5\u05dd\u202emodel\nX")
    assert name.startswith(FSI) and name.endswith(PDI)
    assert "\u202e" not in name and "\\u202e" in name and "\n" not in name
    assert display_name("gpt-4") == "gpt-4"  # plain ASCII unchanged


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[2J\x1b[31mred\x1b[0m", "red"),
        ("\x1b]0;pwned title\x07name", "name"),
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("a\rb\x08c", "a\\x0db\\x08c"),
        ("tab\there", "tab\\x09here"),
        ("\x9b31mx", "x"),
    ],
)
def test_terminal_safe_strips_escape_sequences(raw, clean):
    out = terminal_safe(raw)
    assert out == clean
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in out)


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_formula_cells_get_an_apostrophe(cell):
    assert csv_cell(cell) == "'" + cell


def test_csv_plain_cells_and_numbers_are_unchanged():
    assert csv_cell("gpt-4 = good") == "gpt-4 = good"
    assert csv_cell(-1.5) == -1.5 and csv_cell(None) is None


def test_url_credentials_are_redacted():
    text = "base http://user:sk-secret@host:8080/v1 and https://token@api.example/x?q=1"
    out = redact_url(text)
    assert "sk-secret" not in out and "token" not in out
    assert "http://***@host:8080/v1" in out and "https://***@api.example/x?q=1" in out
    assert redact_url("http://host/path@x") == "http://host/path@x"  # '@' after the host is not a login
