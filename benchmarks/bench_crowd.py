"""Crowd round at scale: 10 annotators x 5,000 items each (12,500 items, overlap 4 = 50,000 labels).

Times ``create`` (assignment + 10 packs), the merge of all 10 packs, a re-merge (nothing new),
``status`` (progress + items below K) and a Coordinator screen refresh (status + quality, offscreen).
Labels are written into each pack's own database in one transaction (the pack's triggers turn them
into events exactly as the labelling session's writes do); that part is not timed.
Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/bench_crowd.py``; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_ANNOTATORS, OVERLAP = 10, 4
GOALS = {"create_s": 3.0, "merge_s": 5.0, "remerge_s": 1.0, "status_s": 1.0, "coordinator_refresh_ms": 300.0}


def build_database(path: Path, n_items: int) -> None:
    """A coordinator database with ``n_items`` comparisons (reference vs 5 candidates)."""
    from tiebreak.core.store import Store

    store = Store(path, create=True)
    with store.transaction() as tx:
        for i in range(n_items // 5):
            ins = tx.instruction_id(f"Instruction {i}: explain idea {i} in two sentences.", "bench")
            ref = tx.output_id(ins, "reference", f"Reference answer {i}. " * 20)
            for g in range(5):
                tx.comparison_id(ins, ref, tx.output_id(ins, f"model-{g}", f"Answer {i} by model {g}. " * 25))
    store.close()


def label_pack(path: Path, rng: random.Random) -> int:
    """Answer every item of a pack directly in its database (the triggers write the events)."""
    from tiebreak.core.store import Store, utcnow

    store = Store(path, create=True)
    aid = store.conn.execute("SELECT id FROM annotators").fetchone()[0]
    items = store.conn.execute("SELECT comparison_id, swapped FROM crowd_pack_items ORDER BY position").fetchall()
    rows = []
    for cid, swapped in items:
        choice = rng.choice(["left", "right", "right", "tie_good"])
        pref = {"left": 1.0, "right": 2.0, "tie_good": 1.5}[choice]
        pref = 3.0 - pref if swapped else pref
        now = utcnow()
        rows.append((cid, aid, pref, choice, swapped, rng.uniform(5, 40), "label", now, now, now))
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO annotations (comparison_id, annotator_id, preference, raw_choice, swapped, seconds, source,"
            " shown_at, submitted_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows,
        )  # fmt: skip
    store.conn.execute("PRAGMA journal_mode = DELETE")
    store.close()
    return len(rows)


CPU: dict[str, float] = {}


def timed(name: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """(wall seconds, result) of one call; its CPU seconds (all threads) go to CPU[name] (the machine may be shared)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    CPU[name] = round(time.process_time() - c, 3)
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; the last line is JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=12_500, help="items in the round (default 12,500)")
    args = ap.parse_args(argv)
    from tiebreak.core.crowd.merge import merge_files
    from tiebreak.core.crowd.round import create_round
    from tiebreak.core.crowd.status import round_status
    from tiebreak.core.store import Store

    load_start = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="tiebreak-crowd-"))
    atexit.register(shutil.rmtree, work, True)  # about 150 MB a run
    db = work / "coordinator.sqlite"
    build_database(db, args.items)
    store = Store(db)
    workers = [f"worker{n:02d}" for n in range(N_ANNOTATORS)]
    t_create, made = timed("create_cpu_s", create_round, store, "bench", workers, OVERLAP, work / "packs", repeats=3, identical=2)
    rng = random.Random(0)
    n_labels = sum(label_pack(p, rng) for p in made.packs.values())
    packs = list(made.packs.values())
    t_merge, report = timed("merge_cpu_s", merge_files, store, packs)
    assert report.n_failed == 0, [f.message for f in report.files]
    t_remerge, again = timed("remerge_cpu_s", merge_files, store, packs)
    assert all(f.n_new == 0 for f in again.files)
    t_status, status = timed("status_cpu_s", round_status, store, "bench")
    refresh_ms = coordinator_refresh_ms(store)
    store.close()
    figures = {
        "annotators": N_ANNOTATORS, "items": made.n_items, "overlap": OVERLAP, "labels": n_labels,
        "create_s": round(t_create, 3), "merge_s": round(t_merge, 3), "remerge_s": round(t_remerge, 3),
        "status_s": round(t_status, 3), "coordinator_refresh_ms": round(refresh_ms, 1),
        "n_below": len(status.below), **CPU, "load_avg_1min_start": round(load_start, 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }  # fmt: skip
    figures["within_goals"] = all(figures[k] <= v for k, v in GOALS.items())
    for k, v in figures.items():
        print(f"{k:>24}: {v}" + (f"  (goal <= {GOALS[k]})" if k in GOALS else ""))
    print(json.dumps(figures))
    return 0


def coordinator_refresh_ms(store) -> float:  # type: ignore[no-untyped-def]
    """Median of 3 refreshes of the Coordinator screen on the benchmark round (offscreen Qt).

    The first build computes the quality table (reported as ``coordinator_first_ms``); a refresh
    recomputes status and flags and reuses quality until a merge, exclusion or reissue changes it.
    """
    from PySide6.QtWidgets import QApplication

    from tiebreak.gui.context import AppContext
    from tiebreak.gui.coordinator import CoordinatorScreen

    app = QApplication.instance() or QApplication([])
    t = time.perf_counter()
    screen = CoordinatorScreen(AppContext(store=store, db_path=store.path))
    CPU["coordinator_first_ms"] = round((time.perf_counter() - t) * 1000, 1)
    screen.resize(1400, 900)
    screen.show()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        screen.refresh()
        app.processEvents()
        times.append((time.perf_counter() - t) * 1000)
    screen.close()
    return sorted(times)[1]


if __name__ == "__main__":
    sys.exit(main())
