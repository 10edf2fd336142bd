"""Format detection, ``open_records`` (a validated stream of records) and ``read_file`` (all of them)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiebreak.core.formats import foreign, raw
from tiebreak.core.formats.errors import NO_FIELD, FormatError
from tiebreak.core.formats.parquet import MAGIC, load_parquet
from tiebreak.core.formats.records import (
    OUTPUT_REQUIRED,
    AnnotationRecord,
    OutputRecord,
    RecordReader,
)
from tiebreak.core.formats.shapes import fill_defaults
from tiebreak.core.formats.source import ByteSource, digest_and_head

#: Names accepted by ``--format``: AlpacaEval record schemas, containers, other tools' formats.
SCHEMAS = ("model-outputs", "alpaca-eval", "cross-annotations")
FORMATS = (*SCHEMAS, "csv", "jsonl", "parquet", *foreign.names())


@dataclass
class ParsedFile:
    """A validated input file: its records are all annotations or all model outputs."""

    path: Path
    format: str  # one of FORMATS
    kind: str  # 'annotations' or 'outputs'
    sha256: str
    annotations: list[AnnotationRecord] = field(default_factory=list)
    outputs: list[OutputRecord] = field(default_factory=list)
    #: Fields of model-outputs records that have no place in the schema (reported, not stored).
    ignored_fields: list[str] = field(default_factory=list)

    @property
    def n_records(self) -> int:
        """Number of records read."""
        return len(self.annotations) + len(self.outputs)


@dataclass
class RecordStream:
    """One input file, detected and ready to stream: iterate ``records()`` (it may be called again).

    ``n_records``, ``ignored_fields`` and ``position`` follow the iteration; ``size`` is the
    file's size on disk (``position`` / ``size`` is the progress).
    """

    path: Path
    format: str
    kind: str
    sha256: str
    container: str
    schema: str
    size: int
    n_records: int = 0
    position: int = 0
    ends_with_newline: bool = True
    ignored_fields: list[str] = field(default_factory=list)

    def records(self) -> Iterator[AnnotationRecord | OutputRecord]:
        """Validated records, in file order; FormatError at the first bad one."""
        reader = RecordReader(self.path, textual=self.container == "csv")
        extra: set[str] = set()
        self.n_records = 0
        with ByteSource(self.path) as src:
            for n, rec in raw.LOADERS[self.container](self.path, src):
                self.position = src.position
                self.n_records += 1
                if self.schema == "model-outputs":
                    extra.update(k for k in rec if k not in _OUTPUT_KEYS)
                    yield reader.output(n, rec)
                else:
                    yield reader.annotation(n, rec, self.schema == "cross-annotations")
            self.position = src.size
        self.ignored_fields = sorted(extra)


_OUTPUT_KEYS = frozenset((*OUTPUT_REQUIRED, "dataset"))


def _container(path: Path, data: bytes) -> str:
    """'json', 'jsonl' or 'csv' from the extension (``.gz`` ignored), else from the content."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    ext = suffixes[-1] if suffixes else ""
    if ext == ".parquet" or data[:4] == MAGIC:
        return "parquet"
    if ext in (".jsonl", ".ndjson"):
        return "jsonl"
    if ext == ".csv":
        return "csv"
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body[:1] == b"{":
        first, _, rest = body.partition(b"\n")
        if ext != ".json" or (first.rstrip().endswith(b"}") and rest.lstrip()[:1] == b"{"):
            return "jsonl"  # JSON lines, even when named .json
    if ext == ".json" or body[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def _schema(keys: set[str]) -> str:
    """'model-outputs', 'cross-annotations' or 'alpaca-eval' from the column names."""
    if "output_1" not in keys and {"output", "generator"} <= keys:
        return "model-outputs"
    if "annotator_index" in keys:
        return "cross-annotations"
    return "alpaca-eval"


def _first_keys(path: Path, container: str) -> set[str]:
    """The fields of the first record (the schema is detected from them)."""
    with ByteSource(path) as src:
        for _, rec in raw.LOADERS[container](path, src):
            return set(rec)
    raise FormatError(path, 1, NO_FIELD, "the file is empty (no records)")  # pragma: no cover


def open_records(path: str | Path, fmt: str | None = None) -> RecordStream:
    """Check and detect one file without loading it: see ``read_file`` for ``fmt``.

    Returns
    -------
    RecordStream
        Iterate ``records()`` to validate and read; memory stays bounded by one record.

    Raises
    ------
    FormatError
        For a file that is not a regular file, cannot be read, is corrupt gzip or a
        decompression bomb, or whose first record is bad.
    """
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise FormatError(path, 1, NO_FIELD, f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    sha256, head, last = digest_and_head(path)
    container = fmt if fmt in ("csv", "jsonl") else _container(path, head)
    schema = fmt if fmt in ("model-outputs", "alpaca-eval", "cross-annotations") else _schema(_first_keys(path, container))
    with ByteSource(path) as src:
        size = src.size
    return RecordStream(path=path, format=fmt or (container if container != "json" else schema),
                        kind="outputs" if schema == "model-outputs" else "annotations", sha256=sha256,
                        container=container, schema=schema, size=size,
                        ends_with_newline=last in (b"\n", b"\r"))  # fmt: skip


def detect_format(path: str | Path) -> str:
    """The format ``read_file`` would use for ``path`` (see FORMATS)."""
    return open_records(path).format


def read_file(path: str | Path, fmt: str | None = None, defaults: Mapping[str, Any] | None = None) -> ParsedFile:
    """Read and validate one file.

    Parameters
    ----------
    path : str or Path
        A JSON list of records, JSON lines or CSV (optionally gzip-compressed).
    fmt : str, optional
        One of FORMATS to force the format. ``csv`` / ``jsonl`` force the container (columns
        still decide between outputs, annotations and cross-annotations); the other three
        force how the records are read (the container is still detected). By default both
        come from the extension (``.gz`` ignored), the first character and the columns of the
        first record: ``output`` + ``generator`` without ``output_1`` = model outputs,
        ``annotator_index`` = cross-annotations, else AlpacaEval annotations.
    defaults : mapping, optional
        Values for fields a record lacks (``generator_1``, ``generator_2``, ``annotator``: see
        ``tiebreak.core.formats.shapes.fill_defaults``).

    Returns
    -------
    ParsedFile

    Raises
    ------
    FormatError
        For any bad record, as ``FILE: record N: field X: what is wrong``.
    """
    if needs_whole_file(path, fmt, defaults):
        return _read_whole(Path(path), fmt, defaults)
    stream = open_records(path, fmt)
    parsed = ParsedFile(path=stream.path, format=stream.format, kind=stream.kind, sha256=stream.sha256)
    target: list = parsed.outputs if stream.kind == "outputs" else parsed.annotations  # type: ignore[type-arg]
    target.extend(stream.records())
    parsed.ignored_fields = stream.ignored_fields
    return parsed


def needs_whole_file(path: str | Path, fmt: str | None = None, defaults: Mapping[str, Any] | None = None) -> bool:
    """Whether ``path`` is read whole rather than streamed: Parquet, another tool's pairwise
    format (converted as a whole), or records completed from ``defaults``."""
    if defaults and any(v is not None for v in defaults.values()):
        return True
    if fmt is not None:
        return fmt == "parquet" or fmt in foreign.names()
    path = Path(path)
    with ByteSource(path) as src:
        head = src.read()
    container = _container(path, head)
    if container == "parquet":
        return True
    with ByteSource(path) as src:
        for _, rec in raw.LOADERS[container](path, src):  # Analyzer-style cross-annotations carry a
            return foreign.detect(rec) is not None or ("generator" in rec and "output_1" in rec)  # generator copy
    return False


def _read_whole(path: Path, fmt: str | None, defaults: Mapping[str, Any] | None) -> ParsedFile:
    """Read Parquet, other tools' formats or defaults-completed records into memory."""
    if fmt is not None and fmt not in FORMATS:
        raise FormatError(path, 1, NO_FIELD, f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    sha256, head, _ = digest_and_head(path)
    container = fmt if fmt in ("csv", "jsonl", "parquet") else _container(path, head)
    if container == "parquet":
        with ByteSource(path) as src:
            data = b"".join(iter(src.read, b""))
        loaded = list(load_parquet(path, data))
    else:
        with ByteSource(path) as src:
            loaded = list(raw.LOADERS[container](path, src))
    if not loaded:
        raise FormatError(path, 1, NO_FIELD, "the file is empty (no records)")
    records = fill_defaults(loaded, defaults)
    other = fmt if fmt in foreign.names() else None if fmt in SCHEMAS else foreign.detect(records[0][1])
    if other:  # another tool's pairwise format, converted to AlpacaEval annotation records
        records = foreign.registry()[other](path, records)
    keys = set(records[0][1])
    schema = fmt if fmt in SCHEMAS else "alpaca-eval" if other else _schema(keys)
    reader = RecordReader(path, textual=container == "csv")
    parsed = ParsedFile(path=path, format=fmt or other or (container if container != "json" else schema),
                        kind="outputs" if schema == "model-outputs" else "annotations",
                        sha256=sha256)  # fmt: skip
    if schema == "model-outputs":
        parsed.outputs = [reader.output(n, rec) for n, rec in records]
        parsed.ignored_fields = sorted(set().union(*(r.keys() for _, r in records)) - {*OUTPUT_REQUIRED, "dataset"})
    else:
        need_index = schema == "cross-annotations"
        parsed.annotations = [reader.annotation(n, rec, need_index) for n, rec in records]
    return parsed
