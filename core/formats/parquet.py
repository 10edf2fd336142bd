"""Parquet files (pandas / Hugging Face ``datasets`` exports) as numbered raw records, and back."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import NO_FIELD, FormatError

Numbered = list[tuple[int, dict[str, Any]]]
MAGIC = b"PAR1"


def load_parquet(path: Path, data: bytes) -> Numbered:
    """Rows of a Parquet file as dicts (numbered from 1); lists and structs stay Python values."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if data[:4] != MAGIC:
        raise FormatError(path, 1, NO_FIELD, "not a Parquet file (no PAR1 header)")
    try:
        rows = pq.read_table(io.BytesIO(data)).to_pylist()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FormatError(path, 1, NO_FIELD, f"invalid Parquet ({exc})") from exc
    if not rows:
        raise FormatError(path, 1, NO_FIELD, "the file has no rows")
    return list(enumerate(rows, 1))


def write_parquet(records: list[dict[str, Any]], path: str | Path, *, force: bool = False,
                  protect: Sequence[str | Path | None] = ()) -> None:  # fmt: skip
    """Write flat records (``exporter.export_records(..., 'csv')`` rows) as one Parquet table
    (through :func:`~tiebreak.core.formats.safe_write.write_safely`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tiebreak.core.formats.safe_write import write_safely

    table = pa.Table.from_pylist(records)
    write_safely(path, lambda fh: pq.write_table(table, fh), force=force, protect=protect, binary=True)
