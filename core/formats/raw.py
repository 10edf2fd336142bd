"""Bytes to a list of raw records (dicts) for JSON, JSONL and CSV, locating every syntax error."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import NO_FIELD, FormatError

csv.field_size_limit(2**31 - 1)  # a 5 MB output is a valid CSV cell

_SEPARATORS = re.compile(r"[\s,]*")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, transparently un-gzipped when it starts with the gzip magic."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FormatError(path, 1, NO_FIELD, f"corrupt gzip data ({exc})") from exc
    return data


def _records_before(text: str, pos: int) -> int:
    """Number of complete top-level JSON list elements that end at or before ``pos``."""
    decoder = json.JSONDecoder()
    i = text.find("[") + 1
    n = 0
    while i > 0:
        i = _SEPARATORS.match(text, i).end()  # type: ignore[union-attr]
        if i >= pos or i >= len(text) or text[i] == "]":
            break
        try:
            _, end = decoder.raw_decode(text, i)
        except ValueError:
            break
        if end > pos:
            break
        n += 1
        i = end
    return n


def decode_utf8(path: Path, data: bytes, kind: str) -> str:
    """Decode UTF-8 (a BOM is allowed); invalid bytes raise FormatError at their record."""
    if not data.strip():
        raise FormatError(path, 1, NO_FIELD, "the file is empty (no records)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8-sig", "replace")
        if kind == "json":
            record = _records_before(prefix, len(prefix)) + 1
        elif kind == "jsonl":
            record = prefix.count("\n") + 1
        else:
            record = max(1, sum(1 for _ in csv.reader(io.StringIO(prefix, newline=""))) - 1)
        bad = data[exc.start : exc.end].hex(" ")
        raise FormatError(
            path, record, NO_FIELD, f"invalid UTF-8 (byte {bad} at offset {exc.start})"
        ) from exc


Numbered = list[tuple[int, dict[str, Any]]]


def _check_objects(path: Path, items: list[Any]) -> Numbered:
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise FormatError(path, n, NO_FIELD, f"expected a JSON object, got {type(item).__name__}")
    return list(enumerate(items, 1))


def load_json(path: Path, data: bytes) -> Numbered:
    """Numbered records of a JSON file holding a list of objects (AlpacaEval's ``orient='records'``)."""
    text = decode_utf8(path, data, "json")
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        record = _records_before(text, exc.pos) + 1
        hint = "; the file looks truncated" if not text.rstrip().endswith("]") else ""
        raise FormatError(
            path, record, NO_FIELD,
            f"invalid JSON ({exc.msg}: line {exc.lineno} column {exc.colno}){hint}",
        ) from exc
    if not isinstance(items, list):
        raise FormatError(path, 1, NO_FIELD, f"expected a JSON list of records, got {type(items).__name__}")
    if not items:
        raise FormatError(path, 1, NO_FIELD, "the file holds an empty list (no records)")
    return _check_objects(path, items)


def load_jsonl(path: Path, data: bytes) -> Numbered:
    """Numbered records of a JSON-lines file (one object per line; blank lines are skipped)."""
    text = decode_utf8(path, data, "jsonl")
    records: Numbered = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(
                path, lineno, NO_FIELD, f"invalid JSON ({exc.msg}: column {exc.colno})"
            ) from exc
        if not isinstance(item, dict):
            raise FormatError(path, lineno, NO_FIELD, f"expected a JSON object, got {type(item).__name__}")
        records.append((lineno, item))
    if not records:
        raise FormatError(path, 1, NO_FIELD, "the file is empty (no records)")
    return records


def load_csv(path: Path, data: bytes) -> Numbered:
    """Numbered records of a CSV file with a header row; every value is a string ('' = missing)."""
    text = decode_utf8(path, data, "csv")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        rows = list(reader)
    except csv.Error as exc:
        raise FormatError(path, max(1, reader.line_num - 1), NO_FIELD, f"invalid CSV: {exc}") from exc
    if len(set(header)) != len(header):
        raise FormatError(path, 1, NO_FIELD, "the CSV header repeats a column name")
    records: Numbered = []
    for n, row in enumerate(rows, 1):
        if not row:
            continue
        if len(row) != len(header):
            raise FormatError(
                path, n, NO_FIELD, f"{len(row)} values but the header has {len(header)} columns"
            )
        records.append((n, dict(zip(header, row, strict=True))))
    if not records:
        raise FormatError(path, 1, NO_FIELD, "the file has a header but no records")
    return records
