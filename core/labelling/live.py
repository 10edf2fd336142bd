"""Live statistics: win rates and judge-human agreement updated one label at a time (no rescan).

Usage: ``live = LiveStats.from_frame(store.annotations_frame(with_texts=False)); live.add(row);
snap = live.snapshot()``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from tiebreak.core.metrics import MetricsError

if TYPE_CHECKING:  # pandas / numpy are imported where a frame is used (the GUI never needs them)
    import pandas as pd

__all__ = ["LiveStats", "LiveSnapshot", "WinRate", "JudgeAgreement", "LiveStatsError"]

#: Scores s = p - 1 are exact multiples of 2**-52 (p is a double in [1, 2]); sums are kept as
#: Python integers in these units, so retractions never leave rounding residue.
_UNIT = 1 << 52
_HALF = 1 << 51
_Z = NormalDist().inv_cdf(0.975)  # scipy.stats.norm.ppf(0.975) within 1 ulp
_FIELDS = ("annotation_id", "comparison_id", "generator_2", "annotator", "annotator_kind", "preference")


class LiveStatsError(MetricsError):
    """A label cannot be added or retracted (duplicate or unknown id, bad field)."""


@dataclass(frozen=True)
class WinRate:
    """Win rate of one generator under one annotator group (fractions, AlpacaEval definitions)."""

    n: int
    n_unparsed: int
    win_rate: float
    standard_error: float
    wilson_low: float
    wilson_high: float
    n_wins: int
    n_losses: int
    n_ties: int


@dataclass(frozen=True)
class JudgeAgreement:
    """A judge group's labels vs the human majority of the same comparisons."""

    n_overlap: int
    agreement: float


@dataclass(frozen=True)
class LiveSnapshot:
    """Frozen statistics: ``win_rates[(generator_2, group)]`` and ``agreement[judge_group]``."""

    version: int
    n_labels: int
    win_rates: Mapping[tuple[str, str], WinRate]
    agreement: Mapping[str, JudgeAgreement]

    def win_rate_frame(self) -> pd.DataFrame:
        """The win rates as a frame indexed by (generator_2, annotator)."""
        import pandas as pd

        rows = {k: vars(v) for k, v in self.win_rates.items()}
        out = pd.DataFrame.from_dict(rows, orient="index")
        if len(out):
            out.index = pd.MultiIndex.from_tuples(out.index, names=["generator_2", "annotator"])
        return out


def _score_units(p: object, where: str) -> int | None:
    """Preference -> integer score units (None when unparsed); legacy 0 -> tie."""
    if p is None:
        return None
    try:
        value = float(p)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise LiveStatsError(f"{where}: preference {p!r} is not a number") from exc
    if math.isnan(value):
        return None
    value = 1.5 if value == 0 else value
    if not 1.0 <= value <= 2.0:
        raise LiveStatsError(f"{where}: preference {value} outside [1, 2]")
    return int((value - 1.0) * _UNIT)


def _win_rate(n: int, n_null: int, k1: int, k2: int, wins: int, ties: int) -> WinRate:
    """Statistics from exact integer sums (k1 = sum of units, k2 = sum of squared units)."""
    if n == 0:
        nan = float("nan")
        return WinRate(0, n_null, nan, nan, nan, nan, 0, 0, 0)
    mean = k1 / (n * _UNIT)
    se = math.sqrt((n * k2 - k1 * k1) / (n * n * (n - 1) * _UNIT * _UNIT)) if n > 1 else float("nan")
    v = (k1 * _UNIT - k2) / (n * _UNIT * _UNIT)  # mean of s (1 - s): p_tie / 4 for 0 / .5 / 1
    b = 2 * n * mean + _Z**2
    root = math.sqrt(max(b * b - 4 * (n + _Z**2) * (n * mean * mean + _Z**2 * v), 0.0))
    den = 2 * (n + _Z**2)
    return WinRate(n, n_null, mean, se, (b - root) / den, (b + root) / den, wins, n - wins - ties, ties)


def _majority(counter: Counter) -> float:
    """:func:`tiebreak.core.metrics.agreement.majority` of a Counter of score units (same tie rule)."""
    if counter.keys() <= {0, _HALF, _UNIT}:
        counts = (counter.get(0, 0), counter.get(_HALF, 0), counter.get(_UNIT, 0))
        top = max(counts)
        tied = [v for v, c in zip((1.0, 1.5, 2.0), counts, strict=True) if c == top]
        return 1.0 if len(tied) == 3 else tied[-1]
    values = sorted(1.0 + k / _UNIT for k in counter.elements())
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _agreement_units(judge: Counter, target: float) -> int:
    """Sum over judge labels of 1 - |label - target|, in score units."""
    t = int((target - 1.0) * _UNIT)
    return sum(c * (_UNIT - abs(k - t)) for k, c in judge.items())


class LiveStats:
    """Running sums per (generator_2, group) and per judge group; O(1)-ish add and retract.

    Win rates: n, mean of p - 1, AlpacaEval SEM, tie-adjusted Wilson 95% interval, counts.
    Agreement: every parsed label of a judge group (kind 'judge') on a comparison that has
    parsed human labels (kind 'human', all human groups pooled) scores 1 - |p - m|, m = the
    humans' majority (:func:`tiebreak.core.metrics.agreement.majority`, AlpacaEval's tie rule); the
    agreement is the mean over those labels (seeds pooled), ``n_overlap`` their number.
    A new human label re-scores only the judge labels of its own comparison.
    """

    def __init__(self) -> None:
        self._labels: dict[Any, tuple] = {}  # annotation_id -> (key, kind, cid, units)
        self._sums: dict[tuple[str, str], list[int]] = {}  # key -> [n, n_null, k1, k2, wins, ties]
        self._humans: dict[Any, Counter] = {}  # cid -> Counter(units)
        self._target: dict[Any, float] = {}  # cid -> human majority
        self._judges: dict[Any, dict[str, Counter]] = {}  # cid -> group -> Counter(units)
        self._agree: dict[str, list[int]] = {}  # group -> [n_overlap, score units]
        self._cache: dict[tuple[str, str], WinRate] = {}
        self._dirty: set[tuple[str, str]] = set()
        self._version = 0

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> LiveStats:
        """Build from a frame in ``Store.annotations_frame()`` columns (retracted rows skipped).

        ``.n_skipped_retracted`` counts rows skipped because ``retracted_at`` is set.
        """
        missing = set(_FIELDS) - set(frame.columns)
        if missing:
            raise LiveStatsError(f"LiveStats.from_frame: frame lacks column(s) {', '.join(sorted(missing))}")
        live = cls()
        rows = frame
        if "retracted_at" in frame.columns:
            rows = frame[frame["retracted_at"].isna()]
        live.n_skipped_retracted = len(frame) - len(rows)
        live._load(rows)
        return live

    def _load(self, rows: pd.DataFrame) -> None:
        """Bulk version of :meth:`add` for an empty aggregator (same sums, grouped counting)."""
        import numpy as np
        import pandas as pd

        p = pd.to_numeric(rows["preference"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        p = np.where(p == 0, 1.5, p)
        aids = rows["annotation_id"].tolist()
        bad = np.flatnonzero(~np.isnan(p) & ((p < 1) | (p > 2)))
        if len(bad):
            raise LiveStatsError(f"LiveStats.from_frame: annotation {aids[bad[0]]}: preference {p[bad[0]]} outside [1, 2]")
        if len(set(aids)) != len(aids):
            raise LiveStatsError("LiveStats.from_frame: duplicate annotation_id in the frame")
        parsed = ~np.isnan(p)
        units = np.where(parsed, (np.where(parsed, p, 1.0) - 1.0) * _UNIT, -1).astype(np.int64)
        gens, groups, kinds, cids = (rows[c].tolist() for c in ("generator_2", "annotator", "annotator_kind", "comparison_id"))
        unit_list = [u if u >= 0 else None for u in units.tolist()]
        keys = list(zip(gens, groups, strict=True))
        self._labels = dict(zip(aids, zip(keys, kinds, cids, unit_list, strict=True), strict=True))
        tab = pd.DataFrame({"gen": gens, "group": groups, "cid": cids, "u": units})
        for key, c in tab.groupby(["gen", "group", "u"], dropna=False).size().items():
            gen, group, unit = cast(tuple[str, str, int], key)  # three group keys -> 3-tuple
            u, c = int(unit), int(c)
            s = self._sums.setdefault((gen, group), [0, 0, 0, 0, 0, 0])
            if u < 0:
                s[1] += c
                continue
            s[0], s[2], s[3] = s[0] + c, s[2] + c * u, s[3] + c * u * u
            s[4], s[5] = s[4] + c * (u > _HALF), s[5] + c * (u == _HALF)
        self._dirty.update(self._sums)
        kind = np.asarray(kinds, dtype=object)
        for (cid, u), c in tab[parsed & (kind == "human")].groupby(["cid", "u"]).size().items():
            self._humans.setdefault(cid, Counter())[int(u)] = int(c)
        self._target = {cid: _majority(counter) for cid, counter in self._humans.items()}
        judged = tab[parsed & (kind == "judge")].groupby(["cid", "group", "u"]).size()
        for (cid, group, u), c in judged.items():
            self._judges.setdefault(cid, {}).setdefault(group, Counter())[int(u)] = int(c)
        for cid, judges in self._judges.items():
            target = self._target.get(cid)
            if target is None:
                continue
            for group, counter in judges.items():
                acc = self._agree.setdefault(group, [0, 0])
                acc[0] += sum(counter.values())
                acc[1] += _agreement_units(counter, target)
        self._version = len(aids)

    n_skipped_retracted = 0

    def add(self, row: Mapping[str, Any]) -> None:
        """Count one new (or restored) label; ``row`` has the keys in ``_FIELDS``."""
        missing = [f for f in _FIELDS if f not in row]
        if missing:
            raise LiveStatsError(f"LiveStats.add: row lacks {', '.join(missing)}")
        self._add(*(row[f] for f in _FIELDS))

    def _add(self, aid: Any, cid: Any, gen: str, group: str, kind: str, p: Any) -> None:
        if aid in self._labels:
            raise LiveStatsError(f"LiveStats.add: annotation {aid} is already counted")
        units = _score_units(p, f"LiveStats.add: annotation {aid}")
        key = (gen, group)
        self._labels[aid] = (key, kind, cid, units)
        self._count(key, units, +1)
        if units is not None:
            self._pair(kind, group, cid, units, +1)
        self._version += 1

    def retract(self, row: Mapping[str, Any] | Any) -> None:
        """Uncount a label: a row mapping with ``annotation_id`` or the id itself."""
        aid = row["annotation_id"] if isinstance(row, Mapping) else row
        if aid not in self._labels:
            raise LiveStatsError(f"LiveStats.retract: annotation {aid} is not counted")
        key, kind, cid, units = self._labels.pop(aid)
        self._count(key, units, -1)
        if units is not None:
            self._pair(kind, key[1], cid, units, -1)
        self._version += 1

    def _count(self, key: tuple[str, str], units: int | None, sign: int) -> None:
        s = self._sums.setdefault(key, [0, 0, 0, 0, 0, 0])
        if units is None:
            s[1] += sign
        else:
            s[0] += sign
            s[2] += sign * units
            s[3] += sign * units * units
            s[4] += sign * (units > _HALF)
            s[5] += sign * (units == _HALF)
        if s[0] == 0 and s[1] == 0:
            del self._sums[key]
            self._cache.pop(key, None)
            self._dirty.discard(key)
        else:
            self._dirty.add(key)

    def _pair(self, kind: str, group: str, cid: Any, units: int, sign: int) -> None:
        """Update the agreement sums for one parsed label."""
        if kind == "human":
            self._human(cid, units, sign)
        elif kind == "judge":
            judges = self._judges.setdefault(cid, {})
            counter = judges.setdefault(group, Counter())
            counter[units] += sign
            if counter[units] == 0:
                del counter[units]
            if not counter:
                del judges[group]
            target = self._target.get(cid)
            if target is not None:
                acc = self._agree.setdefault(group, [0, 0])
                acc[0] += sign
                acc[1] += sign * _agreement_units(Counter({units: 1}), target)

    def _human(self, cid: Any, units: int, sign: int) -> None:
        """Change the humans' labels of one comparison and re-score its judge labels."""
        counter = self._humans.setdefault(cid, Counter())
        counter[units] += sign
        if counter[units] == 0:
            del counter[units]
        old = self._target.get(cid)
        new = _majority(counter) if counter else None
        if not counter:
            del self._humans[cid]
        if new == old:
            return
        if new is None:
            del self._target[cid]
        else:
            self._target[cid] = new
        for group, judge in self._judges.get(cid, {}).items():
            acc = self._agree.setdefault(group, [0, 0])
            n = sum(judge.values())
            if old is not None:
                acc[0] -= n
                acc[1] -= _agreement_units(judge, old)
            if new is not None:
                acc[0] += n
                acc[1] += _agreement_units(judge, new)

    def snapshot(self) -> LiveSnapshot:
        """Frozen statistics now (recomputes only the groups touched since the last call)."""
        for key in self._dirty:
            self._cache[key] = _win_rate(*self._sums[key])
        self._dirty.clear()
        agreement = {
            g: JudgeAgreement(n, s / (n * _UNIT) if n else float("nan"))
            for g, (n, s) in self._agree.items()
            if n
        }
        return LiveSnapshot(
            self._version,
            len(self._labels),
            MappingProxyType(dict(self._cache)),
            MappingProxyType(agreement),
        )
