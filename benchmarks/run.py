"""Run every ``benchmarks/bench_*.py`` in turn (or ``--only NAME``), printing their output."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[Path]:
    """The benchmark scripts, in name order."""
    return sorted(HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; the exit status is the number of failures (0 = all ran)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="run only bench_NAME.py (or NAME.py); repeatable")  # fmt: skip
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    scripts = discover()
    if args.only:
        wanted = {n.removeprefix("bench_").removesuffix(".py") for n in args.only}
        unknown = wanted - {s.stem.removeprefix("bench_") for s in scripts}
        if unknown:
            ap.error(f"no benchmark named {', '.join(sorted(unknown))}; "
                     f"have {', '.join(s.stem.removeprefix('bench_') for s in scripts)}")  # fmt: skip
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    if args.list:
        print("\n".join(s.stem.removeprefix("bench_") for s in scripts))
        return 0
    failures = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        status = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        if status != 0:
            print(f"== {script.name} FAILED (exit {status})", flush=True)
            failures += 1
    return failures


if __name__ == "__main__":
    sys.exit(main())
