"""Format detection and ``read_file``: one input file to a validated list of records."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
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


def detect_format(path: str | Path) -> str:
    """The format ``read_file`` would use for ``path`` (see FORMATS)."""
    return read_file(path).format


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
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise FormatError(path, 1, NO_FIELD, f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    try:
        data = raw.read_bytes(path)
    except OSError as exc:
        raise FormatError(path, 1, NO_FIELD, f"cannot read the file ({exc.strerror or exc})") from exc
    sha256 = hashlib.sha256(data).hexdigest()
    container = fmt if fmt in ("csv", "jsonl", "parquet") else _container(path, data)
    loader = {"json": raw.load_json, "jsonl": raw.load_jsonl, "csv": raw.load_csv, "parquet": load_parquet}[container]
    records = fill_defaults(loader(path, data), defaults)
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

