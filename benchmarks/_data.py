"""The AlpacaEval files benchmarks read: a folder given on the command line, else the repository's copy."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKED = ROOT / "tests" / "data" / "alpaca_eval"


def alpaca_dir(given: Path | None) -> Path:
    """``given`` when set, else tests/data/alpaca_eval unpacked into a temporary folder (removed at exit)."""
    if given is not None:
        return given
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.support.alpaca_data import unpack

    tmp = Path(tempfile.mkdtemp(prefix="tiebreak-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    return unpack(PACKED, tmp)
