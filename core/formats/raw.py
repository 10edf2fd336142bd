"""Streams of raw records (dicts) from JSON, JSONL and CSV, locating every syntax error by record."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import NO_FIELD, FormatError
from tiebreak.core.formats.source import CHUNK, BadUtf8, ByteSource, TextSource

csv.field_size_limit(2**31 - 1)  # a 5 MB output is a valid CSV cell

#: The largest single record (characters); beyond it the file is refused, not loaded whole.
MAX_RECORD_CHARS = 256 << 20
_SPACE = re.compile(r"[ \t\r\n]*")
_EOL = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")
_DECODER = json.JSONDecoder()

Numbered = Iterator[tuple[int, dict[str, Any]]]


class _JsonText:
    """A sliding window over the text of a JSON file: decode one value at a time."""

    def __init__(self, path: Path, text: TextSource) -> None:
        self.path, self.src = path, text
        self.buf, self.pos, self.eof, self.lines_before = "", 0, False, 0

    def fail(self, record: int, problem: str) -> FormatError:
        return FormatError(self.path, record, NO_FIELD, problem)

    def more(self, record: int) -> bool:
        """Read more text (at least as much as is buffered); False at the end of the file."""
        if self.eof:
            return False
        if self.pos > CHUNK:  # drop what was consumed
            self.lines_before += self.buf.count("\n", 0, self.pos)
            self.buf, self.pos = self.buf[self.pos :], 0
        try:
            text = self.src.read(max(CHUNK, len(self.buf) - self.pos))
        except BadUtf8 as exc:
            raise self.fail(record, exc.problem()) from None
        self.buf += text
        self.eof = not text
        return not self.eof

    def peek(self, record: int) -> str:
        """The next non-blank character ('' at the end of the file)."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or not self.more(record):
                return self.buf[self.pos : self.pos + 1]

    def where(self, pos: int) -> str:
        line = self.lines_before + self.buf.count("\n", 0, pos) + 1
        return f"line {line} column {pos - self.buf.rfind(chr(10), 0, pos)}"

    def value(self, record: int) -> Any:
        """Decode the value at the cursor, reading on while it may be cut by the window."""
        while True:
            try:
                item, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.buf) - 12
                if cut and len(self.buf) - self.pos < MAX_RECORD_CHARS and self.more(record):
                    continue
                hint = "; the file looks truncated" if self.eof and not self.buf.rstrip().endswith("]") else ""
                raise self.fail(record, f"invalid JSON ({exc.msg}: {self.where(exc.pos)}){hint}") from None
            except RecursionError:
                raise self.fail(record, "invalid JSON (nested too deeply)") from None
            except ValueError as exc:  # e.g. an integer of more than 4300 digits
                raise self.fail(record, f"invalid JSON ({exc})") from None
            if end == len(self.buf) and not self.eof and self.more(record):
                continue  # a number may go on in the next chunk
            self.pos = end
            return item


def _object(path: Path, n: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise FormatError(path, n, NO_FIELD, f"expected a JSON object, got {type(item).__name__}")
    return item


def iter_json(path: Path, src: ByteSource) -> Numbered:
    """Numbered records of a JSON list of objects (AlpacaEval's ``orient='records'``), streamed."""
    doc = _JsonText(path, TextSource(src))
    first = doc.peek(1)
    if first == "":
        raise doc.fail(1, "the file is empty (no records)")
    if first != "[":
        raise doc.fail(1, f"expected a JSON list of records, got {type(doc.value(1)).__name__}")
    doc.pos += 1
    n = 0
    while True:
        c = doc.peek(n + 1)
        if c == "]":
            break
        if c == "":
            raise doc.fail(n + 1, f"the file ends after record {n} without the closing ']': "
                           "the file looks truncated")  # fmt: skip
        if n:
            if c != ",":
                raise doc.fail(n + 1, f"invalid JSON (expected ',' or ']' at {doc.where(doc.pos)})")
            doc.pos += 1
            if doc.peek(n + 1) == "":
                raise doc.fail(n + 1, f"the file ends after record {n} and a ',': the file looks truncated")
        n += 1
        yield n, _object(path, n, doc.value(n))
    doc.pos += 1
    if doc.peek(n) != "":
        raise doc.fail(n, f"invalid JSON (extra data after the closing ']' at {doc.where(doc.pos)})")
    if n == 0:
        raise doc.fail(1, "the file holds an empty list (no records)")


def iter_jsonl(path: Path, src: ByteSource) -> Numbered:
    """Numbered records of a JSON-lines file (one object per line; blank lines are skipped)."""
    lineno = found = 0
    while line := src.readline(MAX_RECORD_CHARS + 1):
        lineno += 1
        if len(line) > MAX_RECORD_CHARS:
            raise FormatError(path, lineno, NO_FIELD, f"a line longer than {MAX_RECORD_CHARS >> 20} MB")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = line[exc.start : exc.end].hex(" ")
            raise FormatError(path, lineno, NO_FIELD, f"invalid UTF-8 (byte {bad} at column {exc.start + 1})") from None
        if lineno == 1:
            text = text.removeprefix("\ufeff")
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(path, lineno, NO_FIELD, f"invalid JSON ({exc.msg}: column {exc.colno})") from None
        except RecursionError:
            raise FormatError(path, lineno, NO_FIELD, "invalid JSON (nested too deeply)") from None
        except ValueError as exc:
            raise FormatError(path, lineno, NO_FIELD, f"invalid JSON ({exc})") from None
        found += 1
        yield lineno, _object(path, lineno, item)
    if not found:
        raise FormatError(path, 1, NO_FIELD, "the file is empty (no records)")


def _lines(path: Path, text: TextSource, where: list[int]) -> Iterator[str]:
    """Lines of the text, each with its ending (\\n, \\r\\n or \\r); ``where[0]`` = rows so far."""
    carry = ""
    while True:
        try:
            chunk = text.read()
        except BadUtf8 as exc:
            raise FormatError(path, max(1, where[0] + 1), NO_FIELD, exc.problem()) from None
        if not chunk:
            if carry:
                yield carry
            return
        carry += chunk
        end = 0
        for m in _EOL.finditer(carry):
            if m.end() == len(carry) and carry.endswith("\r"):
                break  # maybe the first half of \r\n
            yield m.group()
            end = m.end()
        carry = carry[end:]
        if len(carry) > MAX_RECORD_CHARS:
            raise FormatError(path, max(1, where[0] + 1), NO_FIELD, f"a line longer than {MAX_RECORD_CHARS >> 20} MB")


def iter_csv(path: Path, src: ByteSource) -> Numbered:
    """Numbered records of a CSV file with a header row; every value is a string ('' = missing)."""
    where = [0]
    reader = csv.reader(_lines(path, TextSource(src), where))
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise FormatError(path, 1, NO_FIELD, "the file is empty (no header, no records)")
        if len(set(header)) != len(header):
            raise FormatError(path, 1, NO_FIELD, "the CSV header repeats a column name")
        n = found = 0
        for row in reader:
            n += 1
            where[0] = n
            if not row:
                continue
            if len(row) != len(header):
                raise FormatError(path, n, NO_FIELD, f"{len(row)} values but the header has {len(header)} columns")
            found += 1
            yield n, dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise FormatError(path, max(1, where[0] + 1), NO_FIELD, f"invalid CSV: {exc}") from None
    if not found:
        raise FormatError(path, 1, NO_FIELD, "the file has a header but no records")


LOADERS = {"json": iter_json, "jsonl": iter_jsonl, "csv": iter_csv}
