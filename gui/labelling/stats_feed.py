"""Live statistics of one queue (``tiebreak.core.labelling.live.LiveStats``) and the lines the panel shows.

Only what the panel needs is counted, so a database with hundreds of thousands of judge verdicts
opens fast and small: every human label on the queue's reference and candidates, plus the judge
verdicts on comparisons that have a human label (the ones agreement is computed on). When a
human labels a new comparison, its judge verdicts are counted first, so the figures equal those
of a LiveStats built from the whole database (tested).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from tiebreak.core.labelling import sql as q
from tiebreak.core.labelling.session import QueueSpec
from tiebreak.core.store import Store
from tiebreak.gui.labelling.stats_panel import AgreementLine, WinRateLine


def _num(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


class StatsFeed:
    """A live-statistics sink for the session (``add`` / ``retract``) and a source of lines."""

    def __init__(self, store: Store, stats: Any, spec: QueueSpec, group: str) -> None:
        self.store, self.stats, self.spec, self.group = store, stats, spec, group
        self.human_groups: set[str] = {group}
        self._judged: set[int] = set()
        self._lines: dict[tuple[str, str], tuple[Any, WinRateLine]] = {}  # key -> (WinRate, line)

    @classmethod
    def load(cls, store: Store, spec: QueueSpec, group: str) -> StatsFeed:
        """Count the human labels of the queue's models and the judge verdicts on their items."""
        from tiebreak.core.labelling.live import LiveStats

        feed = cls(store, LiveStats(), spec, group)
        humans = q.human_label_rows(store, spec.reference, spec.candidates)
        feed._count_judges({r["comparison_id"] for r in humans})
        for row in humans:
            feed.human_groups.add(row["annotator"])
            feed.stats.add(row)
        return feed

    def _count_judges(self, comparison_ids: set[int]) -> None:
        new = comparison_ids - self._judged
        if new:
            for row in q.judge_label_rows(self.store, new):
                self.stats.add(row)
            self._judged |= new

    def add(self, row: Mapping[str, Any]) -> None:
        """Count a new (or restored) label of the session."""
        self._count_judges({int(row["comparison_id"])})
        self.human_groups.add(row["annotator"])
        self.stats.add(row)

    def retract(self, row: Mapping[str, Any]) -> None:
        """Uncount a retracted label."""
        self.stats.retract(row)

    def lines(self) -> tuple[list[WinRateLine], list[AgreementLine]]:
        """Human win rates per candidate (this labeller's group first) and judge agreement.

        A label changes one win rate: lines of unchanged ones are reused (the snapshot's frozen
        ``WinRate`` objects are replaced only when their group changes).
        """
        snap = self.stats.snapshot()
        groups = sorted(self.human_groups, key=lambda g: (g != self.group, g))
        cache, fresh = self._lines, {}
        wins = []
        for candidate in self.spec.candidates:
            for g in groups:
                key = (candidate, g)
                w = snap.win_rates.get(key)
                if w is None or w.n == 0:
                    if g == self.group:
                        wins.append(WinRateLine(candidate, g, 0, None, None, None))
                    continue
                hit = cache.get(key)
                if hit is not None and hit[0] is w:
                    line = hit[1]
                else:
                    line = WinRateLine(candidate, g, w.n, _num(w.win_rate), _num(w.wilson_low), _num(w.wilson_high))
                fresh[key] = (w, line)
                wins.append(line)
        self._lines = fresh
        agreement = [AgreementLine(j, a.n_overlap, _num(a.agreement)) for j, a in sorted(snap.agreement.items())]
        return wins, agreement


class _Signals(QObject):
    ready = Signal(object)  # the imported module, or the exception


class _ImportJob(QRunnable):
    """Import ``tiebreak.core.labelling.live`` off the GUI thread (light since pandas loads only for frames; kept
    off the GUI thread so a cold disk cache never delays the first paint)."""

    def __init__(self) -> None:
        super().__init__()
        self.signals = _Signals()

    def run(self) -> None:  # noqa: D102 (Qt override)
        try:
            import tiebreak.core.labelling.live as module
        except Exception as exc:  # noqa: BLE001 (handed to the GUI thread, shown there)
            module = exc
        try:
            self.signals.ready.emit(module)
        except RuntimeError:  # the app closed before the import finished: nobody to tell
            pass


def import_live_in_background(receiver: QObject, on_ready) -> None:
    """Call ``on_ready(module_or_exception)`` on the GUI thread once ``tiebreak.core.labelling.live`` is imported."""
    job = _ImportJob()
    job.signals.setParent(None)
    job.signals.ready.connect(on_ready)
    receiver._live_import_job = job  # keep the signals object alive until it fires
    QThreadPool.globalInstance().start(job)
