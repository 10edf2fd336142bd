"""Readers for AlpacaEval model outputs, annotations and cross-annotations (JSON, JSONL, CSV)."""

from __future__ import annotations

from tiebreak.core.formats.errors import FormatError
from tiebreak.core.formats.readers import (
    FORMATS,
    AnnotationRecord,
    OutputRecord,
    ParsedFile,
    RecordStream,
    detect_format,
    open_records,
    read_file,
)

__all__ = [
    "FORMATS",
    "AnnotationRecord",
    "FormatError",
    "OutputRecord",
    "ParsedFile",
    "RecordStream",
    "detect_format",
    "open_records",
    "read_file",
]
