"""Neutralise hostile imported text: invisible and bidi characters, terminal escapes, CSV formulas, URL secrets."""

from __future__ import annotations

import re
import unicodedata

#: Characters that change the direction of the text that follows them.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Characters that take no space on screen (a name can hide inside another with them).
ZERO_WIDTH = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
#: First Strong Isolate / Pop Directional Isolate: keep a name's direction inside the name.
FSI, PDI = "\u2068", "\u2069"
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_ANSI = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL / ST (titles, hyperlinks)
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI (colours, cursor moves, clear screen)
    r"|\x1b[PX^_].*?(?:\x1b\\|$)"  # DCS / SOS / PM / APC strings
    r"|\x1b[@-Z\\-_]?"  # other two-character escapes, or a lone ESC
    r"|\x9b[0-?]*[ -/]*[@-~]",  # 8-bit CSI
    re.DOTALL,
)
_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<auth>[^/\s@?#]+)@")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def is_invisible(ch: str) -> bool:
    """True for a control, bidi or zero-width character (tab and newline are not invisible)."""
    if ch in "\n\t":
        return False
    return ch in BIDI_CONTROLS or ch in ZERO_WIDTH or unicodedata.category(ch) in ("Cc", "Cf")


def show_invisible(text: str) -> str:
    """``text`` with every control, bidi and zero-width character written as an escape.

    Parameters
    ----------
    text : str
        Any text (a model output in raw mode, a name).

    Returns
    -------
    str
        The same text where e.g. U+202E becomes the six characters ``\\u202e``; tabs and
        newlines are kept.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(_escape(ch) if is_invisible(ch) else ch for ch in text)


def display_name(name: object) -> str:
    """A model, judge, annotator or dataset name ready for a label: invisible characters shown,
    newlines folded and the whole isolated (FSI ... PDI) so it cannot reorder the line around it."""
    text = show_invisible(str(name)).replace("\n", " ").replace("\t", " ")
    if text.isascii():
        return text
    return f"{FSI}{text}{PDI}"


def terminal_safe(text: object) -> str:
    """``text`` for a terminal: escape sequences removed, other control characters escaped.

    Parameters
    ----------
    text : object
        A value about to be printed (converted with ``str``).

    Returns
    -------
    str
        No ESC/CSI sequence and no C0/C1 control survive (newlines and tabs become escapes
        too, so one cell stays on one line); bidi and zero-width characters are escaped.
    """
    s = str(text)
    if s.isascii() and s.isprintable():
        return s
    s = _ANSI.sub("", s)
    return "".join(_escape(ch) if is_invisible(ch) or ch in "\n\t" else ch for ch in s)


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: a string starting with = + - @ tab or CR gets a
    leading apostrophe (OWASP); other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def redact_url(text: str) -> str:
    """``text`` with the credentials of every URL replaced (``http://user:key@host`` ->
    ``http://***@host``)."""
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}***@", text)
