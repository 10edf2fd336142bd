"""Exports to other tools' formats: Chatbot Arena battles (JSON) and Parquet."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from tiebreak.core.formats import arena
from tiebreak.core.formats.exporter import export_records
from tiebreak.core.formats.parquet import write_parquet
from tiebreak.core.formats.safe_write import write_safely
from tiebreak.core.store import Store

__all__ = ["WRITERS", "export_other"]

#: Formats ``export_other`` writes.
WRITERS = ("arena", "parquet")


def export_other(store: Store, path: str | Path, fmt: str, annotators: Sequence[str] | None = None,
                 generators: Sequence[str] | None = None, *, force: bool = False) -> int:  # fmt: skip
    """Write live annotations as Arena battles or Parquet; return the number of records.

    ``arena``: a JSON list of battles (model_a = generator_1, winner from the preference,
    conversations from the texts; unparsed labels are left out). ``parquet``: the same
    columns as the CSV export (``extra`` as JSON text), typed.
    """
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(WRITERS)})")
    if fmt == "parquet":
        records = export_records(store, "csv", annotators, generators)
        for rec in records:  # one type per column: indexes as text (read back as numbers)
            idx = rec["annotator_index"]
            rec["annotator_index"] = None if idx is None else str(idx)
            rec["extra"] = rec["extra"] or None
        write_parquet(records, path, force=force, protect=[store.path])
        return len(records)
    battles = arena.battles(export_records(store, "cross-annotations", annotators, generators))
    write_safely(path, lambda fh: fh.write(json.dumps(battles, indent=2) + "\n"), force=force, protect=[store.path])
    return len(battles)
