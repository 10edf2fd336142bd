"""One input file as a bounded stream: regular files only, gzip with a size limit, exact UTF-8 errors."""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import zlib
from pathlib import Path
from typing import BinaryIO

from tiebreak.core.formats.errors import NO_FIELD, FormatError

#: Bytes read per step (the memory a stream holds is a few of these plus one record).
CHUNK = 1 << 20
#: A gzip file may expand to at most max(GZIP_MIN_LIMIT, GZIP_RATIO * its size) bytes.
GZIP_MIN_LIMIT = 1 << 30
GZIP_RATIO = 200
GZIP_MAGIC = b"\x1f\x8b"


class BadUtf8(Exception):
    """Invalid UTF-8 at byte ``offset`` (the loaders turn it into a FormatError at their record)."""

    def __init__(self, offset: int, bad: bytes) -> None:
        super().__init__(offset, bad)
        self.offset = offset
        self.bad = bad

    def problem(self) -> str:
        """The FormatError problem text."""
        return f"invalid UTF-8 (byte {self.bad.hex(' ')} at offset {self.offset})"


def check_regular(path: Path) -> int:
    """The size of ``path``; FormatError unless it is a regular file (a pipe, a device such as
    /dev/zero, a directory or a socket is refused before anything is read)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FormatError(path, 1, NO_FIELD, f"cannot read the file ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a pipe, device or socket"
        raise FormatError(path, 1, NO_FIELD, f"not a regular file ({kind}): nothing was read")
    return st.st_size


class ByteSource:
    """The file's bytes, transparently un-gzipped, with a decompressed-size limit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = check_regular(path)
        try:
            self.raw: BinaryIO = open(path, "rb")  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise FormatError(path, 1, NO_FIELD, f"cannot read the file ({exc.strerror or exc})") from exc
        self.gzipped = self.raw.read(2) == GZIP_MAGIC
        self.raw.seek(0)
        self.stream: BinaryIO = gzip.GzipFile(fileobj=self.raw) if self.gzipped else self.raw  # type: ignore[assignment]
        self.limit = max(GZIP_MIN_LIMIT, GZIP_RATIO * self.size) if self.gzipped else None
        self.total = 0  # decompressed bytes delivered

    def _count(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.limit is not None and self.total > self.limit:
            raise FormatError(self.path, 1, NO_FIELD, f"the gzip data expands beyond {self.limit >> 20} MB "
                              f"({self.size} bytes compressed): refused as a decompression bomb")  # fmt: skip
        return data

    def read(self, n: int = CHUNK) -> bytes:
        """Up to ``n`` bytes (b'' at the end)."""
        try:
            return self._count(self.stream.read(n))
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError(self.path, 1, NO_FIELD, f"corrupt gzip data ({exc or type(exc).__name__})") from exc

    def readline(self, limit: int) -> bytes:
        """One line of at most ``limit`` bytes, its newline included (b'' at the end)."""
        try:
            return self._count(self.stream.readline(limit))
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError(self.path, 1, NO_FIELD, f"corrupt gzip data ({exc or type(exc).__name__})") from exc

    @property
    def position(self) -> int:
        """Bytes of the file on disk consumed so far (for progress)."""
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return self.size

    def close(self) -> None:
        """Release the file."""
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.close()

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def digest_and_head(path: Path, head_bytes: int = 4 * CHUNK) -> tuple[str, bytes, bytes]:
    """SHA-256 of the decompressed bytes, their first ``head_bytes`` (format detection) and
    their last byte, in one streaming pass (corrupt gzip and decompression bombs fail here,
    before anything is written)."""
    sha = hashlib.sha256()
    head = last = b""
    with ByteSource(path) as src:
        while data := src.read():
            sha.update(data)
            last = data[-1:]
            if len(head) < head_bytes:
                head += data[: head_bytes - len(head)]
    return sha.hexdigest(), head, last


def _incomplete_tail(data: bytes) -> int:
    """How many trailing bytes of ``data`` start a UTF-8 sequence that is not complete yet."""
    for i in range(1, min(4, len(data)) + 1):
        b = data[-i]
        if b & 0xC0 == 0x80:
            continue  # a continuation byte: look further back for the lead
        need = 2 if 0xC0 <= b < 0xE0 else 3 if 0xE0 <= b < 0xF0 else 4 if 0xF0 <= b < 0xF8 else 1
        return i if need > i else 0
    return 0


class TextSource:
    """UTF-8 text of a ByteSource (BOM dropped); invalid bytes raise BadUtf8 only once the text
    before them has been consumed, so the loader knows which record they belong to."""

    def __init__(self, src: ByteSource) -> None:
        self.src = src
        self.carry = b""
        self.offset = 0  # byte offset of ``carry``'s first byte
        self.pending: BadUtf8 | None = None
        self.first = True

    def read(self, n: int = CHUNK) -> str:
        """Some text ('' only at the end)."""
        while True:
            if self.pending is not None:
                raise self.pending
            chunk = self.src.read(n)
            text = self._decode(chunk)
            if self.first and text:
                self.first = False
                text = text.removeprefix("\ufeff")
            if text or not chunk:
                return text

    def _decode(self, chunk: bytes) -> str:
        data = self.carry + chunk
        keep = _incomplete_tail(data) if chunk else 0
        body, self.carry = (data[:-keep], data[-keep:]) if keep else (data, b"")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.pending = BadUtf8(self.offset + exc.start, body[exc.start : exc.end])
            text = body[: exc.start].decode("utf-8")
        self.offset += len(body)
        return text
