"""Streaming import: peak memory and time to import N generated annotation records (default 1,000,000).

The file is generated record by record (a JSON list, like AlpacaEval's annotations.json), then
imported in a child process so its peak RSS is the import's alone; then, as ``tiebreak import``
does, the leaderboard's LC panels are refitted (``refresh_stale_lc``; its time and the peak RSS
before it are reported too). Goal: under 500 MB.
Usage: ``python benchmarks/bench_import_stream.py [--records N] [--format json|jsonl|csv]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_MB = 500
N_INSTRUCTIONS = 5000
MODELS = 40

CHILD = """
import json, resource, sys, time
from tiebreak.core.formats.importer import import_files
from tiebreak.core.store import Store
seen = []
store = Store(sys.argv[1], create=True)
start, cpu = time.perf_counter(), time.process_time()
report = import_files(store, [sys.argv[2]], progress=lambda p: seen.append(p.fraction))
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
import_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# as `tiebreak import` does after the commit: refit the leaderboard's LC panels the import made stale
from tiebreak.core.cli import one_blas_thread
one_blas_thread()
from tiebreak.core.metrics.lc_refresh import refresh_stale_lc
lc = refresh_stale_lc(store)
store.close()
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "added": report.added, "records": report.records,
                  "peak_mb": peak_kb / 1024, "import_peak_mb": import_peak_kb / 1024, "lc_refresh": lc.line(),
                  "lc_refresh_seconds": lc.seconds, "lc_refresh_stored": lc.stored, "progress_calls": len(seen),
                  "progress_monotonic": seen == sorted(seen), "progress_last": seen[-1] if seen else None}))
"""


def record(i: int) -> dict:
    """The i-th generated annotation: 40 models x 5,000 instructions x 5 judges' seeds."""
    ins, model, seed = i % N_INSTRUCTIONS, (i // N_INSTRUCTIONS) % MODELS, i // (N_INSTRUCTIONS * MODELS)
    return {"instruction": f"Instruction {ins}: explain topic {ins} in a few sentences.",
            "output_1": f"Reference answer to {ins}. " + "lorem ipsum " * 10,
            "output_2": f"Model {model} answer to {ins}, seed {seed}. " + "dolor sit amet " * 8,
            "generator_1": "reference", "generator_2": f"model-{model}", "annotator": "bench_judge",
            "annotator_index": seed, "preference": 1.0 + ((i * 7919) % 1000) / 999,
            "price_per_example": 0.001, "time_per_example": 0.5}  # fmt: skip


def generate(path: Path, n: int, fmt: str) -> None:
    """Write ``n`` records without holding them in memory."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if fmt == "csv":
            writer = csv.DictWriter(fh, fieldnames=list(record(0)))
            writer.writeheader()
            for i in range(n):
                writer.writerow(record(i))
            return
        if fmt == "json":
            fh.write("[\n")
        for i in range(n):
            line = json.dumps(record(i))
            if fmt == "json":
                fh.write(line + (",\n" if i + 1 < n else "\n]\n"))
            else:
                fh.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    """Print the figures; the last line is one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--format", choices=("json", "jsonl", "csv"), default="json")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"annotations.{args.format}"
        t0 = time.perf_counter()
        generate(src, args.records, args.format)
        gen_seconds = time.perf_counter() - t0
        size_mb = src.stat().st_size / 1e6
        out = subprocess.run([sys.executable, "-c", CHILD, str(Path(tmp) / "bench.sqlite"), str(src)],
                             capture_output=True, text=True, cwd=ROOT, check=False)  # fmt: skip
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        child = json.loads(out.stdout.strip().splitlines()[-1])
        db_mb = (Path(tmp) / "bench.sqlite").stat().st_size / 1e6
    peak = child["peak_mb"]
    result = {
        "benchmark": "import_stream", "format": args.format, "records": child["records"],
        "added": child["added"], "file_megabytes": round(size_mb, 1), "db_megabytes": round(db_mb, 1),
        "import_seconds": round(child["seconds"], 2), "import_cpu_seconds": round(child["cpu_seconds"], 2),
        "records_per_second": round(child["records"] / child["seconds"]),
        "peak_rss_megabytes": round(peak, 1), "goal_megabytes": GOAL_MB, "goal_met": peak < GOAL_MB,
        "import_peak_rss_megabytes": round(child["import_peak_mb"], 1),
        "lc_refresh_seconds": round(child["lc_refresh_seconds"], 2), "lc_refresh_stored": child["lc_refresh_stored"],
        "progress_calls": child["progress_calls"], "progress_monotonic": child["progress_monotonic"],
        "generate_seconds": round(gen_seconds, 1), "load_average": round(os.getloadavg()[0], 2),
        "bench_process_peak_megabytes": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }  # fmt: skip
    print(f"{child['records']} records ({args.format}, {size_mb:.0f} MB) imported in {child['seconds']:.1f} s "
          f"({result['records_per_second']} records/s; {child['cpu_seconds']:.1f} s CPU), database {db_mb:.0f} MB")
    print(f"then (as `tiebreak import`) {child['lc_refresh']}")
    print(f"peak RSS of the importing process {peak:.0f} MB, {child['import_peak_mb']:.0f} MB before the LC refresh "
          f"(goal < {GOAL_MB} MB: "
          f"{'met' if peak < GOAL_MB else 'NOT met'}); {child['progress_calls']} progress reports")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
