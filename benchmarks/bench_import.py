"""Import speed: the six weighted_alpaca_eval_gpt4_turbo annotation files into a fresh file DB.

Beside it, in the same run, ``pandas.read_json`` of the same files is timed as the floor (parsing
alone, no validation, no database). Goal: all six imported in under 2 seconds.
Usage: ``python benchmarks/bench_import.py [ALPACA_EVAL_DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from benchmarks._data import alpaca_dir  # noqa: E402
from tiebreak.core.formats.importer import import_files  # noqa: E402
from tiebreak.core.store import Store  # noqa: E402

GOAL_SECONDS = 2.0


def files_in(alpaca_dir: Path) -> list[Path]:
    """The six annotation files of the weighted GPT-4 Turbo judge."""
    files = sorted((alpaca_dir / "results").glob("*/weighted_alpaca_eval_gpt4_turbo/annotations.json"))
    if not files:
        raise SystemExit(f"no annotation files under {alpaca_dir}")
    return files


def time_import(files: list[Path]) -> tuple[float, int]:
    """Seconds to import all files into a fresh temp file database, and rows added."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite", create=True)
        start = time.perf_counter()
        report = import_files(store, files)
        seconds = time.perf_counter() - start
        store.close()
    return seconds, report.added


def time_pandas(files: list[Path]) -> tuple[float, int]:
    """Seconds for ``pandas.read_json`` of the same files, and rows read."""
    start = time.perf_counter()
    rows = sum(len(pd.read_json(f)) for f in files)
    return time.perf_counter() - start, rows


def main(argv: list[str] | None = None) -> int:
    """Print the figures; the last line is one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("alpaca_dir", nargs="?", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is reported")
    args = ap.parse_args(argv)
    files = files_in(alpaca_dir(args.alpaca_dir))
    size_mb = sum(f.stat().st_size for f in files) / 1e6
    imports = [time_import(files) for _ in range(args.repeat)]
    floors = [time_pandas(files) for _ in range(args.repeat)]
    t_import, rows = min(imports)
    t_pandas, rows_pandas = min(floors)
    if rows != rows_pandas:
        raise SystemExit(f"imported {rows} rows but pandas read {rows_pandas}")
    result = {
        "benchmark": "import", "files": len(files), "megabytes": round(size_mb, 2), "rows": rows,
        "import_seconds": round(t_import, 4), "import_rows_per_second": round(rows / t_import),
        "pandas_read_json_seconds": round(t_pandas, 4),
        "pandas_rows_per_second": round(rows / t_pandas),
        "ratio_import_to_pandas": round(t_import / t_pandas, 3),
        "goal_seconds": GOAL_SECONDS, "goal_met": t_import < GOAL_SECONDS, "repeat": args.repeat,
    }  # fmt: skip
    print(f"{len(files)} files, {size_mb:.1f} MB, {rows} rows (best of {args.repeat})")
    print(f"tiebreak import      {t_import:7.3f} s  {rows / t_import:10.0f} rows/s  (fresh file DB)")
    print(f"pandas.read_json     {t_pandas:7.3f} s  {rows / t_pandas:10.0f} rows/s  (floor: parse only)")
    print(f"ratio import/pandas  {t_import / t_pandas:7.2f}x   goal < {GOAL_SECONDS:.0f} s: "
          f"{'met' if t_import < GOAL_SECONDS else 'NOT met'}")  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
