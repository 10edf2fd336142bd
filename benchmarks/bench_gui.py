"""Labelling workspace speed: key -> label -> next item painted -> stats; cold start; memory.

Offscreen, on a synthetic database with 200,000 annotations written through the Store API.
Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py``; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REFERENCE = "reference-model"
N_INSTRUCTIONS, N_CANDIDATES, N_JUDGES = 805, 50, 5  # 40,250 comparisons x 5 judges = 201,250
GAP_MS = 60  # between presses (not timed): far faster than a person reads two outputs
#: The reference model of the bundled sample (its queue: the sample's other models).
SAMPLE_REFERENCE = "gpt4_1106_preview"
GOALS = {"press_p50_ms": 8.0, "press_p99_ms": 16.0, "cold_start_s": 1.0, "rss_mb": 300.0}
FIRST_VISIT_GOAL_MS = 300.0  # a screen's page (or its placeholder) is on screen within this
STALL_GOAL_MS = 100.0  # the GUI thread never stops answering longer than this during a first visit
HEARTBEAT_MS = 10  # the timer whose largest gap measures a stall
VISIT_FIGURES = ("shown_ms", "ready_ms", "stall_ms")


def _answer(i: int, g: int) -> str:
    body = " ".join(f"word{(i * 7 + g * 13 + k) % 997}" for k in range(120))
    return (f"## Answer {i}\n\nHere is a **considered** reply with a list:\n\n- first point {g}\n"
            f"- second point\n\n{body}\n\n```python\ndef f(x):\n    return x * {g}\n```\n")  # fmt: skip


def build_database(path: Path) -> int:
    """Write the synthetic database; return the number of annotations."""
    from tiebreak.core.store import Store

    store = Store(path, create=True)
    n = 0
    with store.transaction() as tx:
        judges = [tx.annotator_id(f"judge-{j}", "judge") for j in range(N_JUDGES)]
        for i in range(N_INSTRUCTIONS):
            ins = tx.instruction_id(f"Instruction {i}: explain concept {i} to a beginner.", dataset="bench")
            ref = tx.output_id(ins, REFERENCE, _answer(i, -1))
            for g in range(N_CANDIDATES):
                cid = tx.comparison_id(ins, ref, tx.output_id(ins, f"model-{g:02d}", _answer(i, g)))
                for j, judge in enumerate(judges):
                    pref = 1.0 + ((i + g + j) % 3) / 2
                    tx.add_annotation(comparison_id=cid, annotator_id=judge, preference=pref,
                                         source="judge")  # fmt: skip
                    n += 1
    store.close()
    return n


def database_key(path: Path) -> str:
    """The benchmark database's identity (what the app's remembered queue is keyed by); pooled
    statistics are turned on so that every press also updates them (the heavier path)."""
    from tiebreak.core.identity import database_id, show_pooled_statistics
    from tiebreak.core.store import Store

    store = Store(path)
    show_pooled_statistics(store, True)
    key = database_id(store)
    store.close()
    return key


def count_annotations(path: Path) -> int:
    """Live annotations of an existing benchmark database."""
    from tiebreak.core.store import Store

    store = Store(path)
    n = store.counts()["annotations"]
    store.close()
    return n


def spec():
    """The queue the benchmark labels: all candidates against the reference."""
    from tiebreak.core.labelling.session import QueueSpec

    return QueueSpec("bench-labeller", REFERENCE, tuple(f"model-{g:02d}" for g in range(N_CANDIDATES)))


def rss_mb() -> float:
    """Resident memory of this process (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_child(db: str, ini: str, t_spawn: float) -> None:
    """Child process: start the app as ``run`` does and report when the first item is painted."""
    from tiebreak.core.logs import setup_logging
    from tiebreak.gui.app import build_window, make_application
    from tiebreak.gui.reporter import ErrorReporter
    from tiebreak.gui.settings import Settings

    log_file = setup_logging()
    app = make_application()
    window = build_window(db, Settings(ini))
    ErrorReporter(window, log_file).install()
    window.show()
    window.screen(0).form.submit()  # the launch asks who is labelling, prefilled: Enter (no human time)
    window.repaint()  # paint synchronously: the first comparison is on screen now
    ws = window.screen(0).workspace
    ok = ws.session is not None and ws.session.current() is not None
    print(json.dumps({"painted_s": time.time() - t_spawn, "ok": ok}), flush=True)
    window.close()
    del app


def measure_cold(db: Path, ini: Path, runs: int = 5) -> dict[str, float]:
    """Medians over ``runs`` fresh processes, in seconds.

    ``cold_start_s``: process start -> first comparison painted; ``import_pyside6_floor_s``: the
    bare ``import PySide6.QtWidgets``; ``info_start_s``: the whole ``python -m tiebreak info`` on
    the bundled sample (1,200 annotations: start-up dominates); ``info_bench_db_s``: the same on
    the benchmark database (its queries dominate).
    """
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    cold: list[float] = []
    floor: list[float] = []
    info: list[float] = []
    info_big: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        sample = Path(scratch) / "sample.sqlite"  # created by this first run (not timed)
        subprocess.run([sys.executable, "-m", "tiebreak", "demo", "--db", str(sample)], check=True, env=env,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        for _ in range(runs):
            t0 = time.time()
            subprocess.run([sys.executable, "-c", "import PySide6.QtWidgets"], check=True, env=env)
            floor.append(time.time() - t0)
            out = subprocess.run(
                [sys.executable, __file__, "--cold-child", str(db), str(ini), repr(time.time())],
                check=True, capture_output=True, text=True, env=env,
            )  # fmt: skip
            result = json.loads(out.stdout.strip().splitlines()[-1])
            if not result["ok"]:
                raise RuntimeError("cold start: no comparison was shown")
            cold.append(result["painted_s"])
            for path, times in ((sample, info), (db, info_big)):
                t0 = time.time()
                subprocess.run([sys.executable, "-m", "tiebreak", "info", "--db", str(path)], check=True,
                               env=env, stdout=subprocess.DEVNULL)  # fmt: skip
                times.append(time.time() - t0)
    return {"cold_start_s": statistics.median(cold), "import_pyside6_floor_s": statistics.median(floor),
            "info_start_s": statistics.median(info), "info_bench_db_s": statistics.median(info_big)}  # fmt: skip


def visits_child(db: str, ini: str) -> None:
    """Child process: open the app, then visit every screen once, at once (nothing pre-imported).

    For each screen: ``shown_ms`` = tab switch until the tab's page (the screen, or its
    "Loading…" placeholder) is painted; ``ready_ms`` = until the screen is built, its background
    readers (snapshot runners, store jobs, and the screen's own ``busy`` work such as the Judge
    panel's debounced run estimate) are idle and its sliced GUI work (``Slices``) has run (so no
    screen's loading spills into the next visit); ``stall_ms`` = the longest the GUI thread did not answer during
    the visit (the largest gap between ticks of a ``HEARTBEAT_MS`` timer, the tab switch included).
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from tiebreak.gui.app import build_window, make_application
    from tiebreak.gui.settings import Settings
    from tiebreak.gui.slices import Slices
    from tiebreak.gui.snapshot_runner import SnapshotRunner
    from tiebreak.gui.store_job import JobRunner

    app = make_application()
    window = build_window(db, Settings(ini))
    window.resize(1400, 900)
    window.show()
    QApplication.processEvents()
    ticks: list[float] = []
    heartbeat = QTimer(interval=HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    heartbeat.start()
    figures = {}
    for index in range(1, window.tabs.count()):
        title = window.tabs.tabText(index)
        ticks.clear()
        t0 = time.perf_counter()
        window.tabs.setCurrentIndex(index)
        window.repaint()
        shown = time.perf_counter() - t0
        while time.perf_counter() - t0 < 120:
            screen = window.screen(index)
            runners = [*screen.findChildren(SnapshotRunner), *screen.findChildren(JobRunner),
                       *screen.findChildren(Slices)] if screen is not None else []
            if screen is not None and not any(r.busy for r in runners) and not getattr(screen, "busy", False):
                break
            app.processEvents()
            time.sleep(0.002)
        end = time.perf_counter()
        beats = [t0, *ticks, end]
        figures[title] = {"shown_ms": shown * 1000, "ready_ms": (end - t0) * 1000,
                          "stall_ms": max(b - a for a, b in zip(beats, beats[1:], strict=False)) * 1000}  # fmt: skip
    print(json.dumps(figures), flush=True)
    window.close()


def measure_visits(db: Path, ini: Path, runs: int = 3) -> dict[str, dict[str, float]]:
    """Medians over ``runs`` fresh processes of each screen's first visit (see visits_child)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--visits-child", str(db), str(ini)],
                             check=True, capture_output=True, text=True, env=env)  # fmt: skip
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {title: {k: statistics.median(s[title][k] for s in samples) for k in VISIT_FIGURES}
            for title in samples[0]}  # fmt: skip


class PaintCounter:
    """Counts paint events of groups of widgets (proof that a press was painted, not just handled).

    A group is the widgets that can show one thing (an output column has two views and shows
    one; hidden widgets are never painted): the group counts as painted when any of them was.
    """

    def __init__(self, groups) -> None:
        from PySide6.QtCore import QEvent, QObject

        self.groups = [list(g) for g in groups]
        counts = {id(w): 0 for g in self.groups for w in g}

        class Filter(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
                if event.type() == QEvent.Type.Paint and id(obj) in counts:
                    counts[id(obj)] += 1
                return False

        self.counts, self.filter = counts, Filter()
        for g in self.groups:
            for w in g:
                w.installEventFilter(self.filter)

    def snapshot(self) -> dict[int, int]:
        """Current counts."""
        return dict(self.counts)

    def all_painted_since(self, before: dict[int, int]) -> bool:
        """True when every group had a widget painted after ``before``."""
        return all(any(self.counts[id(w)] > before[id(w)] for w in g) for g in self.groups)


def measure_presses(db: Path, ini: Path, presses: int) -> dict[str, float]:
    """In-process: window on the database, statistics loaded, then timed key presses."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from tiebreak.gui.app import build_window, make_application
    from tiebreak.gui.settings import Settings

    app = make_application()
    window = build_window(db, Settings(ini))
    window.resize(1400, 900)
    window.show()
    window.activateWindow()
    window.screen(0).form.submit()  # confirm the prefilled "who is labelling?"
    ws = window.screen(0).workspace
    t0 = time.perf_counter()
    while ws.stats_feed is None and time.perf_counter() - t0 < 60:
        app.processEvents()
    stats_load = time.perf_counter() - t0
    if ws.stats_feed is None:
        raise RuntimeError(f"statistics did not load: {ws.view.stats.status.text()}")
    ws.setFocus()
    for _ in range(3):
        app.processEvents()
    keys = (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_Left)
    paints = PaintCounter([[v.viewport() for v in ws.view.left.views], [v.viewport() for v in ws.view.right.views],
                           [ws.view.stats.session_label]])  # fmt: skip
    times = []
    n0 = ws.session.queue.n_done
    views = [v for pair in (ws.view.instruction, ws.view.left.pair, ws.view.right.pair) for v in pair.views]
    pictures0 = sum(v.shown_ahead for v in views)
    for k in range(presses):
        before = paints.snapshot()
        start = time.perf_counter()
        QTest.keyClick(ws, keys[k % len(keys)])
        app.processEvents()  # Qt paints what changed: the next comparison and the statistics
        times.append((time.perf_counter() - start) * 1000)
        if not paints.all_painted_since(before):
            raise RuntimeError(f"press {k}: the next comparison or the statistics were not painted")
        QTest.qWait(GAP_MS)  # the app idles between presses, as it does between human votes
    labelled = ws.session.queue.n_done - n0
    if labelled != presses:
        raise RuntimeError(f"{presses} presses recorded {labelled} labels")
    times.sort()
    result = {
        "press_p50_ms": statistics.median(times),
        "press_p99_ms": times[min(len(times) - 1, int(0.99 * len(times)))],
        "press_max_ms": times[-1],
        "stats_load_s": stats_load,
        # documents shown from pictures painted in idle time (3 per press when the prefetch was ready)
        "pictures_shown_share": (sum(v.shown_ahead for v in views) - pictures0) / (3 * presses),
        "rss_mb": rss_mb(),
    }
    window.close()
    QApplication.processEvents()
    return result


def measure_sample_presses(folder: Path, presses: int = 300) -> dict[str, float]:
    """Key presses on the bundled AlpacaEval sample: real instructions and outputs of varied length
    and markup (the benchmark database's synthetic texts are all alike)."""
    from tiebreak.core.labelling.choices import candidates
    from tiebreak.core.labelling.session import QueueSpec
    from tiebreak.core.sample import open_database
    from tiebreak.gui.settings import Settings

    db, ini = folder / "sample.sqlite", folder / "sample.ini"
    store = open_database(db, create=True, sample=True)
    try:
        spec = QueueSpec("bench-labeller", SAMPLE_REFERENCE, tuple(candidates(store, SAMPLE_REFERENCE)))
    finally:
        store.close()
    Settings(ini).set_last_spec(spec, database_key(db))
    result = measure_presses(db, ini, presses)
    return {"sample_press_p50_ms": result["press_p50_ms"], "sample_press_p99_ms": result["press_p99_ms"],
            "sample_pictures_shown_share": result["pictures_shown_share"]}


def sample_presses_in_child() -> dict[str, float]:
    """:func:`measure_sample_presses` in a fresh process (not beside the first measurement's window)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, __file__, "--sample-presses-child"], check=True, capture_output=True,
                         text=True, env=env)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    """Build the database, run the three measurements, print figures and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold-child", nargs=3, metavar=("DB", "INI", "T0"), help=argparse.SUPPRESS)
    parser.add_argument("--presses", type=int, default=500)
    parser.add_argument("--db", type=Path, help="reuse (or create) this benchmark database")
    parser.add_argument("--cold-only", action="store_true", help="measure the start-up figures only")
    parser.add_argument("--visits-only", action="store_true", help="measure the first visits of the screens only")
    parser.add_argument("--visits-child", nargs=2, metavar=("DB", "INI"), help=argparse.SUPPRESS)
    parser.add_argument("--sample-presses-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sample_presses_child:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(measure_sample_presses(Path(folder))))
        return 0
    if args.cold_child:
        cold_child(args.cold_child[0], args.cold_child[1], float(args.cold_child[2]))
        return 0
    if args.visits_child:
        visits_child(*args.visits_child)
        return 0
    from tiebreak.gui.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        db, ini = args.db or Path(tmp) / "bench.sqlite", Path(tmp) / "settings.ini"
        t0 = time.perf_counter()
        if db.exists():
            n = count_annotations(db)
            print(f"database: {n:,} annotations (reused {db})")
        else:
            n = build_database(db)
            print(f"database: {n:,} annotations built in {time.perf_counter() - t0:.1f} s")
        Settings(ini).set_last_spec(spec(), database_key(db))  # the launch offers this queue
        visits = measure_visits(db, ini)
        _print_visits(visits)
        worst = max(v["shown_ms"] for v in visits.values())
        stall = max(v["stall_ms"] for v in visits.values())
        if args.visits_only:
            print(json.dumps({"annotations": n, "first_visit_shown_max_ms": round(worst, 1),
                              "first_visit_goal_met": worst <= FIRST_VISIT_GOAL_MS,
                              "first_visit_stall_max_ms": round(stall, 1),
                              "first_visit_stall_goal_met": stall <= STALL_GOAL_MS,
                              "first_visits": _rounded(visits), "load_average_1m": os.getloadavg()[0]}))  # fmt: skip
            return 0
        cold = measure_cold(db, ini)
        if args.cold_only:
            print(json.dumps({"annotations": n, **{k: round(v, 4) for k, v in cold.items()},
                              "load_average_1m": os.getloadavg()[0]}))  # fmt: skip
            return 0
        presses = measure_presses(db, ini, args.presses)
        presses.update(sample_presses_in_child())
    figures = {"annotations": n, "presses": args.presses, **presses, **cold,
               "first_visit_shown_max_ms": worst, "first_visit_stall_max_ms": stall,
               "first_visits": _rounded(visits)}  # fmt: skip
    print(f"presses {GAP_MS} ms apart (the gap is not timed; idle-time prefetch may run in it)")
    print(f"key -> label -> next painted -> stats: p50 {presses['press_p50_ms']:.2f} ms, "
          f"p99 {presses['press_p99_ms']:.2f} ms (goals {GOALS['press_p50_ms']} / {GOALS['press_p99_ms']} ms)")
    print(f"the same on the bundled AlpacaEval sample (real texts, 300 presses): p50 {presses['sample_press_p50_ms']:.2f} ms, "
          f"p99 {presses['sample_press_p99_ms']:.2f} ms")
    print(f"cold start to first comparison painted: {cold['cold_start_s']:.3f} s (goal {GOALS['cold_start_s']} s); "
          f"floor `import PySide6.QtWidgets`: {cold['import_pyside6_floor_s']:.3f} s")
    print(f"`tiebreak info` start to exit: {cold['info_start_s']:.3f} s on the bundled sample, "
          f"{cold['info_bench_db_s']:.3f} s on the benchmark database")
    print(f"live statistics built from the database in {presses['stats_load_s']:.2f} s (after first paint)")
    print(f"resident memory with the database open: {presses['rss_mb']:.0f} MB (goal {GOALS['rss_mb']} MB)")
    figures["goals_met"] = {k: figures[k] < v for k, v in GOALS.items()}
    figures["goals_met"]["sample_press_p99_ms"] = figures["sample_press_p99_ms"] < GOALS["press_p99_ms"]
    figures["goals_met"]["first_visit_shown_max_ms"] = worst <= FIRST_VISIT_GOAL_MS
    figures["goals_met"]["first_visit_stall_max_ms"] = stall <= STALL_GOAL_MS
    figures["load_average_1m"] = os.getloadavg()[0]  # the machine is shared: context for the timings
    print(f"load average (1 min) during the run: {figures['load_average_1m']:.1f} on {os.cpu_count()} CPUs")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))
    return 0


def _print_visits(visits: dict[str, dict[str, float]]) -> None:
    print(f"first visit of each screen (goals: on screen within {FIRST_VISIT_GOAL_MS:.0f} ms, GUI thread never "
          f"stalled over {STALL_GOAL_MS:.0f} ms; ready = built and loaded):")
    for title, v in visits.items():
        print(f"  {title:16s} shown {v['shown_ms']:7.1f} ms   longest stall {v['stall_ms']:7.1f} ms   "
              f"ready {v['ready_ms']:8.1f} ms")


def _rounded(visits: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {t: {k: round(x, 1) for k, x in v.items()} for t, v in visits.items()}


if __name__ == "__main__":
    sys.exit(main())
