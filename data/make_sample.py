"""Rebuild the bundled sample ``data/sample/annotations.json.gz`` from the AlpacaEval files.

Usage: ``python data/make_sample.py [ALPACA_EVAL_DIR] [--n 200]`` (default: the
repository's copy in ``tests/data/alpaca_eval``, unpacked to a temporary folder). The output is deterministic (same input,
same bytes): the first N instructions of the canonical 805-instruction order, for every model
that has ``weighted_alpaca_eval_gpt4_turbo/annotations.json``, rows unchanged (all columns,
raw completions included), interleaved by instruction so gzip stores each reference output
(``gpt4_1106_preview``, output_1) about once.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
JUDGE = "weighted_alpaca_eval_gpt4_turbo"
OUT = HERE / "sample" / "annotations.json.gz"


def build(alpaca_dir: Path, n: int) -> list[dict]:
    """Rows of the sample: instruction-major, models in name order."""
    files = sorted((alpaca_dir / "results").glob(f"*/{JUDGE}/annotations.json"))
    if not files:
        raise SystemExit(f"no {JUDGE} annotations under {alpaca_dir / 'results'}")
    per_model = [json.loads(f.read_text(encoding="utf-8"))[:n] for f in files]
    canonical = [r["instruction"] for r in per_model[0]]
    for f, rows in zip(files, per_model, strict=True):
        if [r["instruction"] for r in rows] != canonical:
            raise SystemExit(f"{f}: instructions not in the canonical order")
        outputs = f.parent.parent / "model_outputs.json"
        if outputs.exists():  # the outputs are already in the rows: check, don't duplicate
            by_instr = {r["instruction"]: r["output"] for r in json.loads(outputs.read_text("utf-8"))}
            bad = [i for i, r in enumerate(rows) if by_instr.get(r["instruction"]) != r["output_2"]]
            if bad:
                raise SystemExit(f"{outputs}: output differs from the annotations at rows {bad[:5]}")
    return [rows[i] for i in range(n) for rows in per_model]


def render(rows: list[dict]) -> bytes:
    """The gzip bytes of the sample (fixed mtime, so the output is reproducible)."""
    payload = json.dumps(rows, indent=1).encode("ascii")
    return gzip.compress(payload, compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    """Write the sample file and print what it holds."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("alpaca_dir", nargs="?", type=Path, default=None)
    ap.add_argument("--n", type=int, default=200, help="number of instructions (default 200)")
    args = ap.parse_args(argv)
    if args.alpaca_dir is None:
        sys.path.insert(0, str(HERE.parent))
        from benchmarks._data import alpaca_dir

        args.alpaca_dir = alpaca_dir(None)
    rows = build(args.alpaca_dir, args.n)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(render(rows))
    models = sorted({r["generator_2"] for r in rows})
    print(f"{OUT}: {len(rows)} rows, {args.n} instructions, models {', '.join(models)}; "
          f"{OUT.stat().st_size} bytes")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
