"""Export of reviewed items: CSV / JSONL rows and AlpacaEval annotations with the human preference."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pandas as pd

from tiebreak.core.errors import TiebreakError
from tiebreak.core.formats.safe_write import check_target, write_safely
from tiebreak.core.review import sql as rs
from tiebreak.core.store import Store
from tiebreak.core.text_safety import csv_frame

__all__ = ["EXPORT_FORMATS", "ExportError", "reviewed_items", "alpaca_annotations", "write_export"]

EXPORT_FORMATS = ("csv", "jsonl", "alpaca")
COLUMNS = [
    "review_id", "comparison_id", "audit_group", "stream", "inclusion_prob", "dataset", "instruction",
    "generator_1", "output_1", "generator_2", "output_2", "judge", "judge_preference", "judge_confidence",
    "reviewer", "reviewer_group", "human_blind_preference", "human_blind_choice", "swapped", "action",
    "human_final_preference", "reason", "reason_text", "blind_at", "revealed_at", "acted_at",
]  # fmt: skip


class ExportError(TiebreakError, ValueError):
    """An export request that cannot be met (unknown format or label, nothing reviewed)."""


def reviewed_items(store: Store, audit_group: str | None = None, stream: str | None = None) -> pd.DataFrame:
    """Live reviews joined with their texts: judge verdict, blind and final human verdicts, reason.

    Parameters
    ----------
    store : Store
        The database.
    audit_group, stream : str, optional
        Restrict to one audit stream and / or to 'random' or 'adhoc' items.
    """
    r = rs.review_rows(store)
    if audit_group is not None:
        r = r[r["audit_group"] == audit_group]
    if stream is not None:
        r = r[r["stream"] == stream]
    rows = []
    for rec in r.to_dict("records"):
        pair = store.pair(int(rec["comparison_id"]))
        rows.append({
            **rec, "dataset": pair.dataset, "instruction": pair.instruction,
            "generator_1": pair.generator_1, "output_1": pair.output_1,
            "generator_2": pair.generator_2, "output_2": pair.output_2, "judge": rec["judge_group"],
            "human_blind_preference": rec["blind_preference"], "human_blind_choice": rec["blind_choice"],
            "human_final_preference": rec["final_preference"],
        })  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def alpaca_annotations(items: pd.DataFrame, label: str = "final") -> tuple[list[dict], int]:
    """AlpacaEval annotation records carrying the human preference (1, 1.5 or 2, canonical order).

    Returns the records and the number of reviews left out because that label is missing
    (no post-reveal action yet, or a blind "can't judge").
    """
    if label not in ("final", "blind"):
        raise ExportError(f"alpaca export: label must be 'final' or 'blind' (got {label!r})")
    col = f"human_{label}_preference"
    out, missing = [], 0
    for rec in items.to_dict("records"):
        pref = rec[col]
        if pref is None or (isinstance(pref, float) and math.isnan(pref)):
            missing += 1
            continue
        out.append({
            "instruction": rec["instruction"], "output_1": rec["output_1"], "output_2": rec["output_2"],
            "generator_1": rec["generator_1"], "generator_2": rec["generator_2"],
            "dataset": rec["dataset"], "annotator": rec["reviewer_group"],
            "annotator_index": rec["reviewer"], "preference": float(pref),
            "judge": rec["judge"], "judge_preference": rec["judge_preference"],
            "review_action": rec["action"], "review_reason": rec["reason"] or rec["reason_text"],
        })  # fmt: skip
    return out, missing


def write_export(items: pd.DataFrame, path: str | Path, fmt: str, label: str = "final", *,
                 force: bool = False, protect: Sequence[str | Path | None] = ()) -> tuple[int, int]:  # fmt: skip
    """Write ``items`` as csv, jsonl or alpaca (a JSON list); returns (written, left out).

    Written through :func:`~tiebreak.core.formats.safe_write.write_safely` (``force`` replaces an
    existing file; ``protect`` names the open database, which is never written over).
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"export: unknown format {fmt!r} (choose from {', '.join(EXPORT_FORMATS)})")
    check_target(path, force=force, protect=protect)
    written, missing = len(items), 0
    if fmt == "csv":
        def write(fh: IO[str]) -> None:
            csv_frame(items).to_csv(fh, index=False)
    elif fmt == "jsonl":
        def write(fh: IO[str]) -> None:
            for rec in items.to_dict("records"):
                fh.write(json.dumps({k: _plain(v) for k, v in rec.items()}, ensure_ascii=False) + "\n")
    else:
        records, missing = alpaca_annotations(items, label)
        written = len(records)

        def write(fh: IO[str]) -> None:
            fh.write(json.dumps([{k: _plain(v) for k, v in r.items()} for r in records], indent=2,
                                ensure_ascii=False))  # fmt: skip
    write_safely(path, write, force=force, protect=protect)
    return written, missing


def _plain(v: object) -> object:
    """JSON-safe value: NaN -> null, numpy scalars -> Python."""
    if v is None:
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v
