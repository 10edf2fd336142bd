"""Unpack the repository's gzip-compressed AlpacaEval files into a folder with their original layout."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

__all__ = ["unpack"]


def unpack(packed: Path, target: Path) -> Path:
    """Copy ``packed`` to ``target``, gunzipping every ``*.gz`` (``a.json.gz`` -> ``a.json``); return ``target``."""
    if not packed.is_dir():
        raise FileNotFoundError(f"AlpacaEval test data not found at {packed}")
    for src in packed.rglob("*"):
        if not src.is_file():
            continue
        rel = src.relative_to(packed)
        dest = target / (rel.with_suffix("") if src.suffix == ".gz" else rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".gz":
            with gzip.open(src, "rb") as fin, open(dest, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        else:
            shutil.copy2(src, dest)
    return target
