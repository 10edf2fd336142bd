"""The one exception every reader raises for bad input, with file, record and field."""

from __future__ import annotations

from pathlib import Path

from tiebreak.core.errors import TiebreakError

#: Field name used when an error is not about one field (bad JSON, empty file, ...).
NO_FIELD = "-"


class FormatError(TiebreakError, ValueError):
    """An input file that cannot be imported.

    The message is always ``FILE: record N: field X: what is wrong``; records are numbered
    from 1 (JSON list element, JSONL line, CSV data row). ``field`` is ``-`` when the problem
    is not tied to one field (invalid JSON, an empty file, invalid UTF-8).
    """

    def __init__(self, path: str | Path, record: int, field: str, problem: str) -> None:
        self.path = str(path)
        self.record = int(record)
        self.field = field or NO_FIELD
        self.problem = problem
        super().__init__(f"{self.path}: record {self.record}: field {self.field}: {problem}")
