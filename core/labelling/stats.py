"""Live statistics of one labelling queue: which labels count, kept up to date from the session's changes.

Qt-free. Counted: every live human label on the queue's reference and candidates, plus the judge
verdicts on comparisons that have a human label (the ones agreement is computed on). When a human
labels a new comparison, its judge verdicts are read first, so the figures equal those of a
``LiveStats`` built from the whole database. The GUI renders :class:`StatsSnapshot` objects only.

Usage::

    stats = LabellingStats.load(store, spec, group)
    snap = stats.apply(change)       # a Change returned by LabellingSession
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiebreak.core.labelling import sql as q
from tiebreak.core.labelling.live import LiveStats
from tiebreak.core.metrics.accumulate import WinRate

if TYPE_CHECKING:
    from tiebreak.core.labelling.session import Change, QueueSpec
    from tiebreak.core.store import Store

__all__ = ["WinRateLine", "AgreementLine", "StatsSnapshot", "LabellingStats"]


def _num(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


@dataclass(frozen=True)
class WinRateLine:
    """One win rate of the panel (fractions; None where undefined, e.g. SE and interval of one label)."""

    candidate: str
    group: str
    n: int
    win_rate: float | None
    low: float | None
    high: float | None
    standard_error: float | None = None
    n_wins: int = 0
    n_wins_base: int = 0
    n_draws: int = 0
    n_dropped: int = 0

    @classmethod
    def of(cls, candidate: str, group: str, w: WinRate) -> WinRateLine:
        """The line of a finalised win rate."""
        return cls(candidate, group, w.n_total, _num(w.win_rate), _num(w.low), _num(w.high),
                   _num(w.standard_error), w.n_wins, w.n_wins_base, w.n_draws, w.n_dropped)  # fmt: skip


@dataclass(frozen=True)
class AgreementLine:
    """Agreement of one judge group with the human majority on the same comparisons."""

    judge: str
    n_overlap: int  # judge labels scored (seeds pooled)
    agreement: float | None
    n_items: int = 0  # comparisons labelled by both


@dataclass(frozen=True)
class StatsSnapshot:
    """What the statistics panel shows, frozen: win rates (this labeller's group first), agreement."""

    version: int
    wins: tuple[WinRateLine, ...]
    agreement: tuple[AgreementLine, ...]


class LabellingStats:
    """Live statistics of one queue; a sink for the session (``add``/``retract``) or fed ``apply(change)``."""

    def __init__(self, spec: QueueSpec, group: str, judge_rows: Callable[[set[int]], Iterable[Mapping[str, Any]]]):
        """``judge_rows(comparison_ids)``: the judge verdicts on those comparisons (read on demand)."""
        self.spec, self.group = spec, group
        self.live = LiveStats()
        self.human_groups: set[str] = {group}
        self._judge_rows = judge_rows
        self._judged: set[int] = set()
        self._lines: dict[tuple[str, str], tuple[WinRate, WinRateLine]] = {}

    @classmethod
    def load(cls, store: Store, spec: QueueSpec, group: str) -> LabellingStats:
        """Count the human labels of the queue's models and the judge verdicts on their items."""
        stats = cls(spec, group, lambda ids: q.judge_label_rows(store, ids))
        humans = q.human_label_rows(store, spec.reference, spec.candidates)
        stats._count_judges({int(r["comparison_id"]) for r in humans})
        stats.human_groups.update(row["annotator"] for row in humans)
        stats.live.add_many(humans)
        return stats

    def _count_judges(self, comparison_ids: set[int]) -> None:
        new = comparison_ids - self._judged
        if new:
            self.live.add_many(self._judge_rows(new))
            self._judged |= new

    def prepare(self, comparison_id: int) -> None:
        """Read the judge verdicts of a comparison about to be labelled (idle time), so the label reads none.

        Judge verdicts count toward agreement only on comparisons humans labelled, so reading
        them early changes no figure; like the reads at labelling time, a verdict stored after
        this read is counted at the next load.
        """
        self._count_judges({int(comparison_id)})

    def is_counted(self, annotation_id: int) -> bool:
        """Whether the label is counted now."""
        return annotation_id in self.live

    def add(self, row: Mapping[str, Any]) -> None:
        """Count a new (or restored) label of the session (the session's stats sink)."""
        self._count_judges({int(row["comparison_id"])})
        self.human_groups.add(row["annotator"])
        self.live.add(row)

    def retract(self, row: Mapping[str, Any]) -> None:
        """Uncount a retracted label."""
        self.live.retract(row)

    def apply(self, change: Change) -> StatsSnapshot:
        """Follow one session change (record, undo, redo; others change nothing) and return a snapshot.

        Idempotent: a change whose label is already counted (or already uncounted) is not counted
        twice, so this is safe beside a session that feeds ``add``/``retract`` itself.
        """
        row = change.stats_row
        if change.kind == "record" and row is not None:
            counted = self.is_counted(row["annotation_id"])
            if change.undone and counted:
                self.retract(row)
            elif not change.undone and not counted:
                self.add(row)
        return self.snapshot()

    def snapshot(self) -> StatsSnapshot:
        """Win rates per candidate (this labeller's group first; its empty rows shown) and agreement.

        Lines of win rates that did not change are reused (the live snapshot replaces a finalised
        ``WinRate`` only when its group changes), so the panel re-formats one row per label.
        """
        snap = self.live.snapshot()
        groups = sorted(self.human_groups, key=lambda g: (g != self.group, g))
        cache, fresh, wins = self._lines, {}, []
        for candidate in self.spec.candidates:
            for g in groups:
                w = snap.win_rates.get((candidate, g))
                if w is None or w.n_total == 0:
                    if g == self.group:
                        wins.append(WinRateLine(candidate, g, 0, None, None, None))
                    continue
                hit = cache.get((candidate, g))
                line = hit[1] if hit is not None and hit[0] is w else WinRateLine.of(candidate, g, w)
                fresh[(candidate, g)] = (w, line)
                wins.append(line)
        self._lines = fresh
        agreement = tuple(AgreementLine(j, a.n_labels, _num(a.value), a.n_items) for j, a in snap.agreement.items())
        return StatsSnapshot(snap.version, tuple(wins), agreement)

    def lines(self) -> tuple[list[WinRateLine], list[AgreementLine]]:
        """The snapshot as (win-rate lines, agreement lines) for ``StatsPanel.show_stats``."""
        snap = self.snapshot()
        return list(snap.wins), list(snap.agreement)
