"""Votes while a big import runs: the labelling screen never blocks its thread for long and loses no vote.

Subprocesses run ``tiebreak import`` of large generated annotations files into the database, one
after the other (``--imports``), while the labelling screen (offscreen, real widgets, real key presses) receives a vote every
``--interval-ms``, as a labeller who waits for each vote to be accepted would. A heartbeat timer
on the GUI thread measures the longest time the thread was blocked. Printed: votes sent, votes
that met the import's write lock (held and retried), votes committed, votes lost (must be 0),
the worst key-handler time and the worst GUI-thread block in ms; the last line is JSON.
Usage: ``python benchmarks/bench_concurrency.py [--records N] [--imports K] [--interval-ms MS]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from tiebreak.core.labelling.session import QueueSpec  # noqa: E402
from tiebreak.core.store import Store  # noqa: E402
from tiebreak.gui import settings as app_settings  # noqa: E402
from tiebreak.gui.app import make_application  # noqa: E402
from tiebreak.gui.context import AppContext  # noqa: E402
from tiebreak.gui.main_window import MainWindow  # noqa: E402

REFERENCE, CANDIDATES = "ref-model", ("cand-a", "cand-b", "cand-c")
KEYS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Down)
HEARTBEAT_MS = 5


def make_database(path: Path, n_instructions: int) -> None:
    """A database with ``n_instructions`` x 3 comparisons to label."""
    store = Store(path, create=True)
    with store.transaction() as tx:
        for i in range(n_instructions):
            ins = tx.instruction_id(f"Question {i}: explain topic {i} to a student.", dataset="bench")
            ref = tx.output_id(ins, REFERENCE, f"Reference answer {i}: " + "a sentence. " * 30)
            for k, g in enumerate(CANDIDATES):
                tx.comparison_id(ins, ref, tx.output_id(ins, g, f"**Answer {i}.{k}**\n\n" + "more text. " * 40))
    store.close()


def make_import_file(path: Path, n: int, tag: int = 0) -> None:
    """``n`` AlpacaEval annotation records with distinct texts (a big import; ``tag`` makes them new)."""
    records = [{"instruction": f"Bulk instruction {tag}.{i}: " + "describe it in detail. " * 4,
                "output_1": f"bulk reference {i} " + "lorem ipsum " * 20,
                "output_2": f"bulk candidate {i} " + "dolor sit amet " * 20,
                "generator_1": "bulk-ref", "generator_2": f"bulk-gen-{i % 5}",
                "annotator": "bulk_judge", "preference": 1 + (i % 2)} for i in range(n)]  # fmt: skip
    path.write_text(json.dumps(records))


def open_screen(db: Path, folder: Path) -> tuple[MainWindow, Store]:
    """The main window (labelling screen only, 1024x640) with a started session, and its store."""
    app_settings.install(app_settings.Settings(folder / "settings.ini"))
    store = Store(db)
    window = MainWindow(AppContext(store=store, db_path=db), app_settings.current(),
                        screens=[("Labelling", "tiebreak.gui.labelling.screen:LabellingScreen")])  # fmt: skip
    window.resize(1024, 640)
    window.show()
    if not window.screen(0).start(QueueSpec("bench-labeller", REFERENCE, CANDIDATES)):
        raise SystemExit("could not start the labelling session")
    window.screen(0).workspace.setFocus()
    return window, store


class Labeller:
    """Presses a vote key every interval while the imports run; times keys, retries and the thread."""

    def __init__(self, ws, files: list[Path], db: Path) -> None:
        self.ws, self.files, self.db = ws, files, db
        self.figures = {"sent": 0, "held": 0, "ignored": 0, "max_key_ms": 0.0, "max_retry_ms": 0.0,
                        "max_block_ms": 0.0}  # fmt: skip
        self.outcomes: list[subprocess.CompletedProcess[str]] = []
        self.importer = threading.Thread(target=self.run_imports)
        self.loop = QEventLoop()
        self.beat = QElapsedTimer()
        ws.pending.timer.timeout.disconnect()
        ws.pending.timer.timeout.connect(self.timed_retry)

    def run_imports(self) -> None:
        """One import after the other, off the GUI thread (starting a process takes time)."""
        for big in self.files:
            self.outcomes.append(subprocess.run([sys.executable, "-m", "tiebreak", "import", str(big), "--db",
                                                 str(self.db)], capture_output=True, text=True))  # fmt: skip

    def heartbeat(self) -> None:
        """How late this tick is: the GUI thread was blocked that long."""
        self.figures["max_block_ms"] = max(self.figures["max_block_ms"], self.beat.nsecsElapsed() / 1e6 - HEARTBEAT_MS)
        self.beat.restart()

    def timed_retry(self) -> None:
        """The workspace's own retry of a held vote, timed."""
        start = time.perf_counter()
        self.ws.pending.retry()
        self.figures["max_retry_ms"] = max(self.figures["max_retry_ms"], (time.perf_counter() - start) * 1000)

    def vote(self) -> None:
        """One key press (ignored by the screen while a vote waits, counted apart)."""
        ws, figures = self.ws, self.figures
        if (not self.importer.is_alive() and not ws.pending.active) or ws.session.current() is None:
            self.loop.quit()
            return
        was_waiting, start = ws.pending.active, time.perf_counter()
        QTest.keyClick(ws, KEYS[figures["sent"] % len(KEYS)])
        figures["max_key_ms"] = max(figures["max_key_ms"], (time.perf_counter() - start) * 1000)
        if was_waiting:
            figures["ignored"] += 1  # an impatient key while a vote waits: ignored by design
            return
        figures["sent"] += 1
        figures["held"] += ws.pending.active

    def run(self, interval_ms: int) -> float:
        """Label until the imports ended and no vote waits; the seconds it took."""
        timers = [QTimer(interval=HEARTBEAT_MS, timeout=self.heartbeat), QTimer(interval=interval_ms, timeout=self.vote)]
        self.importer.start()
        self.beat.start()
        for timer in timers:
            timer.start()
        t0 = time.perf_counter()
        self.loop.exec()
        for timer in timers:
            timer.stop()
        self.importer.join()
        for outcome in self.outcomes:
            if outcome.returncode != 0:
                raise SystemExit(f"an import failed ({outcome.returncode}): {outcome.stderr.strip()}")
            print(outcome.stdout.strip().splitlines()[-1])
        return time.perf_counter() - t0


def count_labels(store: Store, annotator: str) -> int:
    """Live annotations of ``annotator``."""
    return int(store.conn.execute(
        "SELECT count(*) FROM annotations a JOIN annotators an ON an.id = a.annotator_id"
        " WHERE an.name = ? AND a.retracted_at IS NULL", (annotator,)).fetchone()[0])  # fmt: skip


def run(records: int, imports: int, interval_ms: int, folder: Path) -> dict[str, float | int]:
    """Label while the imports run; the figures of :mod:`bench_concurrency`."""
    db = folder / "shared.tiebreak"
    make_database(db, 400)
    files = [folder / f"big-{k}.json" for k in range(imports)]
    for k, big in enumerate(files):
        make_import_file(big, records, k)
    _app = make_application([])  # kept alive for the run
    window, store = open_screen(db, folder)
    labeller = Labeller(window.screen(0).workspace, files, db)
    wall = labeller.run(interval_ms)
    window.close()
    f, committed = labeller.figures, count_labels(store, "bench-labeller")
    result = {"records_imported": count_labels(store, "bulk_judge"), "votes_sent": f["sent"],
              "votes_held_busy": f["held"], "keys_ignored_while_waiting": f["ignored"], "votes_committed": committed,
              "votes_lost": f["sent"] - committed, "worst_key_handler_ms": round(f["max_key_ms"], 1),
              "worst_retry_ms": round(f["max_retry_ms"], 1), "worst_gui_block_ms": round(f["max_block_ms"], 1),
              "seconds": round(wall, 1)}  # fmt: skip
    store.close()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run once and print the figures; exit status 1 when a vote was lost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000, help="records in each generated import file")
    parser.add_argument("--imports", type=int, default=3, help="imports run one after the other")
    parser.add_argument("--interval-ms", type=int, default=100, help="time between two vote keys")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tiebreak-bench-conc-") as tmp:
        result = run(args.records, args.imports, args.interval_ms, Path(tmp))
    print(f"{args.imports} imports ({result['records_imported']} records) in subprocesses, "
          f"{result['seconds']} s of labelling")
    print(f"votes sent: {result['votes_sent']} ({result['votes_held_busy']} met the import's write lock and "
          f"were retried; {result['keys_ignored_while_waiting']} impatient keys ignored)")  # fmt: skip
    print(f"votes committed: {result['votes_committed']}; votes lost: {result['votes_lost']}")
    print(f"worst key handler: {result['worst_key_handler_ms']} ms; worst retry of a held vote: "
          f"{result['worst_retry_ms']} ms; worst GUI-thread block: "
          f"{result['worst_gui_block_ms']} ms")  # fmt: skip
    print(json.dumps({"benchmark": "concurrency", **result}))
    return 1 if result["votes_lost"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
