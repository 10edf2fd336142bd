"""Neutralise hostile imported text: invisible and bidi characters, terminal escapes, CSV formulas, URL secrets."""

from __future__ import annotations

import io
import re
from typing import Any, TextIO

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


#: Every control (Cc but tab and newline) and format (Cf) character, and the other invisibles.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891"
    "\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def is_invisible(ch: str) -> bool:
    """True for a control, format (bidi, zero-width, tag) or blank-looking filler character;
    tab and newline are not invisible."""
    return _INVISIBLE.match(ch) is not None


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
    return _INVISIBLE.sub(lambda m: _escape(m.group()), text)


def display_name(name: object) -> str:
    """A model, judge, annotator or dataset name ready for a label: invisible characters shown,
    newlines folded and the whole isolated (FSI ... PDI) so it cannot reorder the line around it."""
    text = show_invisible(str(name)).replace("\n", " ").replace("\t", " ")
    if text.isascii():
        return text
    return f"{FSI}{text}{PDI}"


def terminal_safe(text: object, keep_lines: bool = False) -> str:
    """``text`` for a terminal: escape sequences removed, other control characters escaped.

    Parameters
    ----------
    text : object
        A value about to be printed (converted with ``str``).
    keep_lines : bool
        Keep newlines and tabs (whole output); by default they become escapes too, so one
        name or cell stays on one line.

    Returns
    -------
    str
        No ESC/CSI sequence and no other C0/C1 control survives; bidi and zero-width
        characters are escaped.
    """
    s = str(text)
    if s.isascii() and s.isprintable():
        return s
    s = _ANSI.sub("", s)
    s = _INVISIBLE.sub(lambda m: _escape(m.group()), s)
    return s if keep_lines else s.replace("\n", "\\x0a").replace("\t", "\\x09")


class SafeWriter(io.TextIOBase):
    """A text stream that passes everything through ``terminal_safe(..., keep_lines=True)``:
    installed over stdout by the CLI, so no printer can emit an imported escape sequence."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, s: str) -> int:
        """Write ``s`` made safe; returns ``len(s)`` as a stream must."""
        self.inner.write(terminal_safe(s, keep_lines=True))
        return len(s)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self.inner.flush()

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal."""
        return self.inner.isatty()

    def writable(self) -> bool:
        """Always True."""
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The wrapped stream's encoding."""
        return getattr(self.inner, "encoding", "utf-8")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: a string starting with = + - @ tab or CR gets a
    leading apostrophe (OWASP); other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_label(value: object) -> object:
    return tuple(csv_cell(v) for v in value) if isinstance(value, tuple) else csv_cell(value)


def csv_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame ready for ``to_csv``: every text cell, row label and column
    label that a spreadsheet would run as a formula gets a leading apostrophe (see ``csv_cell``)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(csv_cell)
    out.index = out.index.map(_csv_label)
    out.columns = out.columns.map(_csv_label)
    return out


def redact_url(text: str) -> str:
    """``text`` with the credentials of every URL replaced (``http://user:key@host`` ->
    ``http://***@host``)."""
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}***@", text)
