"""Majority vote and judge-human agreement: the one implementation of each (pure Python, no numpy).

``majority`` is AlpacaEval's "Bayes estimator" of several labels of one comparison;
:class:`AgreementAccumulator` keeps the sufficient statistics of the metric called *agreement*
(docs/metrics.md, "Human agreement"): every parsed judge label on a comparison with parsed human
labels scores 1 - |p - m|, m = the humans' majority; agreement = mean score. The labelling panel,
the Human-vs-judge dashboard and the batch path all feed this accumulator.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any

from tiebreak.core.metrics.accumulate import SCALE, clean_preference

__all__ = ["TIE_RULE", "mode_of_counts", "majority", "absolute_score", "Agreement", "AgreementAccumulator"]

#: The tie rule of :func:`majority`, in words (shown in docs, tooltips and CLI notes).
TIE_RULE = (
    "mode of the labels when all are 1, 1.5 or 2 (else the median); a two-way tie between modes "
    "(2-2 or 1-1 split) goes to the larger value, a three-way tie (1, 1.5, 2 once each) to 1 "
    "- exactly what AlpacaEval's _random_mode(seed=123) draws"
)
DISCRETE = (1.0, 1.5, 2.0)


def mode_of_counts(n_ref: int, n_tie: int, n_model: int) -> float:
    """The mode of labels counted as 1 / 1.5 / 2, ties broken by :data:`TIE_RULE` (NaN if none)."""
    top = max(n_ref, n_tie, n_model)
    if top <= 0:
        return math.nan
    tied = [v for v, c in zip(DISCRETE, (n_ref, n_tie, n_model), strict=True) if c == top]
    return 1.0 if len(tied) == 3 else tied[-1]


def majority(labels: Iterable[Any]) -> float:
    """Majority of the labels of one comparison: the mode when all are 1, 1.5 or 2, else the median.

    Legacy 0 counts as 1.5; None and NaN are left out; NaN when no label is present.
    """
    values = []
    for p in labels:
        if p is None:
            continue
        v = float(p)
        if not math.isnan(v):
            values.append(1.5 if v == 0 else v)
    if not values:
        return math.nan
    if all(v in DISCRETE for v in values):
        return mode_of_counts(values.count(1.0), values.count(1.5), values.count(2.0))
    return float(median(values))


def absolute_score(label: float, target: float) -> float:
    """AlpacaEval's "absolute" scoring rule of one label against a target: 1 - |target - label|."""
    return 1.0 - abs(target - label)


@dataclass(frozen=True, slots=True)
class Agreement:
    """A judge group's agreement with the human majority (NaN without an overlapping label)."""

    n_labels: int  # judge labels scored (seeds pooled)
    n_items: int  # comparisons with both judge and human labels
    value: float


class AgreementAccumulator:
    """Running agreement of judge groups with the human majority; add, retract, merge, finalise.

    Feed it every label that should count (``kind`` 'human' or 'judge'); which labels count is the
    caller's choice (e.g. one human group, or all). A human label re-scores only the judge labels
    of its own comparison. Scores are kept as exact integers in units of 2^-32 plus a remainder.
    """

    def __init__(self) -> None:
        self._humans: dict[Hashable, Counter[float]] = {}  # comparison -> human labels
        self._target: dict[Hashable, float] = {}  # comparison -> human majority
        self._judges: dict[Hashable, dict[str, Counter[float]]] = {}  # comparison -> group -> labels
        self._sums: dict[str, list] = {}  # group -> [n_labels, n_items, score_fixed, score_rest]

    def add(self, kind: str, group: str, comparison: Hashable, preference: Any, weight: int = 1) -> None:
        """Count one label (``weight`` -1 uncounts it); unparsed labels and other kinds are ignored."""
        p = clean_preference(preference)
        if p is None:
            return
        if kind == "human":
            self._human(comparison, p, weight)
        elif kind == "judge":
            self._judge(group, comparison, p, weight)

    def retract(self, kind: str, group: str, comparison: Hashable, preference: Any) -> None:
        """Uncount a label counted before with :meth:`add`."""
        self.add(kind, group, comparison, preference, -1)

    def merge(self, other: AgreementAccumulator) -> AgreementAccumulator:
        """An accumulator holding the labels of both (a new object)."""
        out = AgreementAccumulator()
        for acc in (self, other):
            for cid, counter in acc._humans.items():
                for p, c in counter.items():
                    out.add("human", "", cid, p, c)
            for cid, judges in acc._judges.items():
                for group, counter in judges.items():
                    for p, c in counter.items():
                        out.add("judge", group, cid, p, c)
        return out

    def _score(self, group: str, counter: Counter[float], target: float, weight: int) -> None:
        s = self._sums.setdefault(group, [0, 0, 0, 0.0])
        s[0] += weight * sum(counter.values())
        s[1] += weight
        for p, c in counter.items():
            score = absolute_score(p, target)
            fixed = math.floor(score * SCALE + 0.5)
            s[2] += weight * c * fixed
            s[3] += weight * c * (score - fixed / SCALE)
        if s[0] == 0:
            del self._sums[group]

    def _judge(self, group: str, cid: Hashable, p: float, weight: int) -> None:
        judges = self._judges.setdefault(cid, {})
        counter = judges.setdefault(group, Counter())
        target = self._target.get(cid)
        if target is not None and counter:
            self._score(group, counter, target, -1)
        counter[p] += weight
        if counter[p] <= 0:
            del counter[p]
        if counter:
            if target is not None:
                self._score(group, counter, target, +1)
        else:
            del judges[group]
            if not judges:
                del self._judges[cid]

    def _human(self, cid: Hashable, p: float, weight: int) -> None:
        counter = self._humans.setdefault(cid, Counter())
        counter[p] += weight
        if counter[p] <= 0:
            del counter[p]
        old = self._target.get(cid)
        new = majority(counter.elements()) if counter else None
        if not counter:
            del self._humans[cid]
        if new == old:
            return
        for group, judge in self._judges.get(cid, {}).items():
            if old is not None:
                self._score(group, judge, old, -1)
            if new is not None:
                self._score(group, judge, new, +1)
        if new is None:
            del self._target[cid]
        else:
            self._target[cid] = new

    def finalise(self) -> dict[str, Agreement]:
        """Agreement per judge group with at least one scored label."""
        return {g: Agreement(n, items, (fixed / SCALE + rest) / n)
                for g, (n, items, fixed, rest) in sorted(self._sums.items()) if n > 0}  # fmt: skip

    def targets(self) -> Mapping[Hashable, float]:
        """The human majority of every comparison with a parsed human label (read-only view)."""
        return dict(self._target)
