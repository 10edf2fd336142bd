"""``tiebreak leaderboard``, ``agreement`` and ``info`` at ~170,000 annotations (issue 13: leaderboard < 1 s).

Builds (once, cached under the temp folder) a database of N models x 805 AlpacaEval instructions
judged by one judge against gpt4_1106_preview, plus 650 comparisons x 4 humans for ``agreement``;
then runs each command as a fresh ``python -m tiebreak`` process and reports wall seconds, CPU
seconds (user + system of the child; the machine may be loaded: the load average is printed) and
the child's peak RSS. ``leaderboard`` runs cold (the LC cache emptied before each run: the
annotation rows read as packed integers into numpy, LC fitted by Newton's method, then stored; no
pandas, no scipy), after one human label changed (only that group's panel is stale: its rows
alone are read and fitted) and warm (cache current: no numpy, no fit). Then the user's flow, on
a copy of the database: ``tiebreak import`` of one new model's 805 annotations (``import_seconds``:
the import commits, then refits the panel it made stale) and the first ``tiebreak leaderboard``
after it (``after_import_seconds``), checked equal to a cold computation (single runs).
Usage: ``python benchmarks/bench_leaderboard.py [--models N] [--repeat R] [--db PATH]``; the last
line is JSON.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._data import alpaca_dir  # noqa: E402

GOAL_SECONDS = 1.0
REFERENCE = "gpt4_1106_preview"
JUDGE = "bench_judge"


def _records(instructions: list[str], ref_outputs: list[str], n_models: int, rng: random.Random) -> list[dict]:
    """AlpacaEval-style annotation records: every model on every instruction, one judge."""
    words = "the a model answer is long short good detail step result example".split()
    out = []
    for m in range(n_models):
        skill = rng.random()
        verbose = rng.randint(5, 120)
        for i, (instr, ref) in enumerate(zip(instructions, ref_outputs, strict=True)):
            text = f"m{m} i{i} " + " ".join(rng.choice(words) for _ in range(rng.randint(1, verbose)))
            r = rng.random()
            pref: float | None = 2.0 if r < skill * 0.9 else (1.0 if r < 0.97 else 1.5)
            if rng.random() < 0.002:
                pref = None
            elif rng.random() < 0.3:  # weighted judges give probabilities
                pref = 1.0 + rng.random()
            out.append({"instruction": instr, "output_1": ref, "generator_1": REFERENCE,
                        "output_2": text, "generator_2": f"model_{m:03d}", "annotator": JUDGE,
                        "preference": pref})  # fmt: skip
    return out


def _humans(records: list[dict], rng: random.Random) -> list[dict]:
    """650 of the judged comparisons labelled by 4 humans each (for ``agreement``)."""
    out = []
    for rec in records[:650]:
        for h in range(4):
            out.append({**rec, "annotator": "humans", "annotator_index": h, "annotator_kind": "human",
                        "preference": rng.choice([1.0, 2.0, 2.0, 1.5])})  # fmt: skip
    return out


def build(path: Path, n_models: int) -> float:
    """Create the benchmark database at ``path`` (seconds taken)."""
    from tiebreak.core.formats.importer import import_files
    from tiebreak.core.store import Store

    data = alpaca_dir(None)
    refs = json.loads((data / "results" / REFERENCE / "model_outputs.json").read_text())
    instructions = [r["instruction"] for r in refs]
    ref_outputs = [r["output"] for r in refs]
    rng = random.Random(13)
    records = _records(instructions, ref_outputs, n_models, rng)
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="tiebreak-bench-lb-"))
    (tmp / "annotations.json").write_text(json.dumps(records))
    (tmp / "humans.json").write_text(json.dumps(_humans(records, rng)))
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = Store(partial, create=True)
    try:
        import_files(store, [tmp / "annotations.json", tmp / "humans.json"])
    finally:
        store.close()
    partial.rename(path)
    return time.perf_counter() - start


def run_command(argv: list[str]) -> dict:
    """Run ``python -m tiebreak ARGV`` in a fresh process: wall, CPU and peak RSS of that child alone."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "tiebreak", *argv], stdout=out, stderr=err,
                                env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"tiebreak {' '.join(argv)} failed:\n{err.read()[-2000:]}")
        return {"seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": usage.ru_maxrss / 1024, "stdout": out.read(), "stderr": err.read()}  # fmt: skip


def clear_cache(db: Path) -> None:
    """Empty the LC cache (when the database has one yet): the next leaderboard fits LC afresh."""
    import sqlite3

    with sqlite3.connect(db) as con:
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'lc_cache'").fetchone():
            con.execute("DELETE FROM lc_cache")


def touch_humans(db: Path) -> None:
    """Retract one human label, or restore it when it is retracted: only the humans' LC panel is stale."""
    import sqlite3

    with sqlite3.connect(db) as con:
        (aid, retracted), = con.execute(
            "SELECT a.id, a.retracted_at FROM annotations a JOIN annotators n ON n.id = a.annotator_id "
            "WHERE n.group_name = 'humans' ORDER BY a.id LIMIT 1").fetchall()  # fmt: skip
        con.execute("UPDATE annotations SET retracted_at = ? WHERE id = ?",
                    [None if retracted else "2026-01-01T00:00:00+00:00", aid])  # fmt: skip


NEW_MODEL = "model_new"


def import_flow(db: Path) -> dict:
    """The user's flow on a copy of ``db``: ``tiebreak import`` of one new model's 805 annotations by the
    bench judge (the command refits the panel it made stale), then the first ``tiebreak leaderboard``.

    The copy starts warm (one leaderboard run first). Its cache is then emptied and the leaderboard
    computed cold once more: both must print the same.
    """
    import sqlite3

    data = alpaca_dir(None)
    refs = json.loads((data / "results" / REFERENCE / "model_outputs.json").read_text())
    records = _records([r["instruction"] for r in refs], [r["output"] for r in refs], 1, random.Random(1313))
    for rec in records:
        rec["generator_2"] = NEW_MODEL
    tmp = Path(tempfile.mkdtemp(prefix="tiebreak-bench-lb-import-"))
    file, copy = tmp / "new_model_annotations.json", tmp / "copy.sqlite"
    file.write_text(json.dumps(records))
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    try:
        lb = ["leaderboard", "--db", str(copy)]
        run_command(lb)  # warm before the import, as after any leaderboard
        imported = run_command(["import", str(file), "--db", str(copy)])
        after = run_command(lb)
        clear_cache(copy)
        cold = run_command(lb)
    finally:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    if cold["stdout"] != after["stdout"] or NEW_MODEL not in after["stdout"]:
        raise SystemExit("the leaderboard after the import differs from a cold computation (or lacks the new model)")
    return {"records": len(records), "import": imported, "after": after, "cold": cold}


def _print_flow(flow: dict) -> None:
    """The import flow's figures, as the other commands'."""
    for name, key in (("import", "import"), ("after_import", "after"), ("after_import_cold", "cold")):
        r = flow[key]
        print(f"{name:<18} {r['seconds']:6.2f} s wall  {r['cpu_seconds']:6.2f} s CPU  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")  # fmt: skip
    print(f"import of {flow['records']} annotations of {NEW_MODEL} said: "
          f"{flow['import']['stderr'].strip().splitlines()[-1]}")


def _flow_figures(flow: dict) -> dict:
    """The import flow's fields of the JSON line."""
    return {
        "import_seconds": round(flow["import"]["seconds"], 3),
        "import_cpu_seconds": round(flow["import"]["cpu_seconds"], 3),
        "import_lc_refresh_seconds": _refresh_seconds(flow["import"]["stderr"]),
        "after_import_seconds": round(flow["after"]["seconds"], 3),
        "after_import_cpu_seconds": round(flow["after"]["cpu_seconds"], 3),
        "after_import_cold_seconds": round(flow["cold"]["seconds"], 3),
    }


def _refresh_seconds(stderr: str) -> float | None:
    """The LC refresh's own seconds from ``tiebreak import``'s line (None when it did not refit)."""
    found = re.search(r"leaderboard cache: .* refitted in ([0-9.]+) s", stderr)
    return float(found.group(1)) if found else None


def best(argv: list[str], repeat: int, before: Callable[[], None] | None = None) -> dict:
    """The fastest (by CPU) of ``repeat`` runs (each with its own peak RSS); ``before`` runs before each."""
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        runs.append(run_command(argv))
    return min(runs, key=lambda r: r["cpu_seconds"])


def main() -> None:
    """Build or reuse the database, time the commands, print figures and one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", type=int, default=211, help="candidate models (x 805 instructions)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, help="benchmark database (built when missing)")
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    db = args.db or Path(tempfile.gettempdir()) / f"tiebreak-bench-leaderboard-{args.models}.sqlite"
    if args.build_only:
        print(f"  built in {build(db, args.models):.1f} s", flush=True)
        return
    if not db.exists():
        print(f"building {db} ({args.models} models x 805 instructions) ...", flush=True)
        # in a child process: the benchmark's own memory must not count in the commands' peak RSS
        subprocess.run([sys.executable, __file__, "--build-only", "--models", str(args.models), "--db", str(db)], check=True)
    import sqlite3

    with sqlite3.connect(db) as con:
        n = con.execute("SELECT count(*) FROM annotations WHERE retracted_at IS NULL").fetchone()[0]
    results = {}
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores shared: compare CPU seconds)")
    cold = functools.partial(clear_cache, db)
    for name, argv, before in (
        ("info", ["info", "--db", str(db)], None),
        ("leaderboard_cold", ["leaderboard", "--db", str(db)], cold),
        ("leaderboard", ["leaderboard", "--db", str(db)], None),
        ("leaderboard_json", ["leaderboard", "--db", str(db), "--format", "json"], None),
        ("agreement", ["agreement", "--db", str(db), "--gold", "humans"], None),
        ("leaderboard_one_panel", ["leaderboard", "--db", str(db)], functools.partial(touch_humans, db)),
    ):
        r = best(argv, args.repeat, before)
        results[name] = r
        print(f"{name:<18} {r['seconds']:6.2f} s wall  {r['cpu_seconds']:6.2f} s CPU  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")  # fmt: skip
    if args.repeat % 2:
        touch_humans(db)  # the label back as it was
    flow = import_flow(db)
    _print_flow(flow)
    head = results["leaderboard"]["stdout"].splitlines()[:3]
    print("\n".join(head))
    lb, cold_lb = results["leaderboard"], results["leaderboard_cold"]
    if cold_lb["stdout"] != lb["stdout"]:
        raise SystemExit("the cached leaderboard differs from the freshly computed one")
    print(f"cold and warm leaderboards print the same ({len(lb['stdout'])} characters)")
    print(json.dumps({
        "seconds": round(lb["seconds"], 3), "cpu_seconds": round(lb["cpu_seconds"], 3),
        "peak_rss_mb": round(lb["peak_rss_mb"], 1), "annotations": n, "goal_seconds": GOAL_SECONDS,
        "cold_seconds": round(cold_lb["seconds"], 3), "cold_cpu_seconds": round(cold_lb["cpu_seconds"], 3),
        "cold_peak_rss_mb": round(cold_lb["peak_rss_mb"], 1),
        "one_panel_stale_seconds": round(results["leaderboard_one_panel"]["seconds"], 3),
        "json_cpu_seconds": round(results["leaderboard_json"]["cpu_seconds"], 3),
        "load_average": {"start": [round(v, 2) for v in load], "end": [round(v, 2) for v in os.getloadavg()]},
        "info_seconds": round(results["info"]["seconds"], 3),
        "agreement_seconds": round(results["agreement"]["seconds"], 3),
        "json_seconds": round(results["leaderboard_json"]["seconds"], 3), **_flow_figures(flow),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
