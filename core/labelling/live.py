"""Live statistics: win rates and judge-human agreement updated one label at a time (no rescan).

A thin index over the one accumulator of each metric (``tiebreak.core.metrics.accumulate`` and
``tiebreak.core.metrics.consensus``): it remembers which label went where so it can be retracted.
Usage: ``live = LiveStats.from_frame(frame); live.add(row); snap = live.snapshot()``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tiebreak.core.metrics import MetricsError
from tiebreak.core.metrics.accumulate import WinRate, WinRateSums, clean_preference
from tiebreak.core.metrics.consensus import Agreement, AgreementAccumulator

if TYPE_CHECKING:  # pandas is imported where a frame is used (the GUI never needs it)
    import pandas as pd

__all__ = ["LiveStats", "LiveSnapshot", "WinRate", "Agreement", "LiveStatsError"]

_FIELDS = ("annotation_id", "comparison_id", "generator_2", "annotator", "annotator_kind", "preference")


class LiveStatsError(MetricsError):
    """A label cannot be added or retracted (duplicate or unknown id, bad field)."""


@dataclass(frozen=True)
class LiveSnapshot:
    """Frozen statistics: ``win_rates[(generator_2, group)]`` and ``agreement[judge_group]``."""

    version: int
    n_labels: int
    win_rates: Mapping[tuple[str, str], WinRate]
    agreement: Mapping[str, Agreement]

    def win_rate_frame(self) -> pd.DataFrame:
        """The win rates as a frame indexed by (generator_2, annotator)."""
        import pandas as pd

        rows = {k: {f: getattr(v, f) for f in v.__slots__} for k, v in self.win_rates.items()}
        out = pd.DataFrame.from_dict(rows, orient="index")
        if len(out):
            out.index = pd.MultiIndex.from_tuples(out.index, names=["generator_2", "annotator"])
        return out


def _checked(p: object, where: str) -> float | None:
    """The preference to count: None when unparsed (None, NaN); an error when not a preference."""
    if p is None:
        return None
    try:
        value = float(p)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise LiveStatsError(f"{where}: preference {p!r} is not a number") from exc
    if math.isnan(value):
        return None
    if clean_preference(value) is None:
        raise LiveStatsError(f"{where}: preference {value} outside [1, 2]")
    return value


class LiveStats:
    """:class:`WinRateSums` per (generator_2, group) and one :class:`AgreementAccumulator`.

    Win rates: :func:`tiebreak.core.metrics.accumulate.finalise` of each group's sums.
    Agreement (docs/metrics.md, "agreement"): every parsed judge label (kind 'judge') on a
    comparison with parsed human labels (kind 'human', all human groups fed here pooled) scores
    1 - |p - m|, m = the humans' majority; mean per judge group, seeds pooled.
    """

    n_skipped_retracted = 0

    def __init__(self) -> None:
        self._labels: dict[Any, tuple] = {}  # annotation_id -> (key, kind, cid, preference)
        self._sums: dict[tuple[str, str], WinRateSums] = {}
        self.agreement = AgreementAccumulator()
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
        rows = frame
        if "retracted_at" in frame.columns:
            rows = frame[frame["retracted_at"].isna()]
        aids = rows["annotation_id"].tolist()
        if len(set(aids)) != len(aids):
            raise LiveStatsError("LiveStats.from_frame: duplicate annotation_id in the frame")
        live = cls()
        live.n_skipped_retracted = len(frame) - len(rows)
        live._load(zip(*(rows[c].tolist() for c in _FIELDS), strict=True))
        return live

    def add_many(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """:meth:`add` for many rows at once (faster: equal labels are counted once with a weight)."""
        rows = list(rows)
        for row in rows:
            missing = [f for f in _FIELDS if f not in row]
            if missing:
                raise LiveStatsError(f"LiveStats.add: row lacks {', '.join(missing)}")
        self._load(tuple(row[f] for f in _FIELDS) for row in rows)

    def _load(self, rows: Iterable[tuple]) -> None:
        """Bulk :meth:`add`: equal labels are counted once with a weight (judges before humans)."""
        sums: Counter[tuple] = Counter()
        pairs: Counter[tuple] = Counter()
        seen: dict[Any, tuple] = {}  # counted only once every row is valid: a bad row changes nothing
        for aid, cid, gen, group, kind, p in rows:
            if aid in self._labels or aid in seen:
                raise LiveStatsError(f"LiveStats.add: annotation {aid} is already counted")
            value = _checked(p, f"LiveStats.add: annotation {aid}")
            seen[aid] = ((gen, group), kind, cid, value)
            sums[(gen, group), value] += 1
            if value is not None:
                pairs[kind != "judge", kind, group, cid, value] += 1
        self._labels.update(seen)
        for (key, value), c in sums.items():
            self._sums.setdefault(key, WinRateSums()).add(value, c)
            self._dirty.add(key)
        for (_, kind, group, cid, value), c in sorted(pairs.items(), key=lambda item: item[0][0]):  # judges first
            self.agreement.add(kind, group, cid, value, c)
        self._version += len(seen)

    def __contains__(self, annotation_id: object) -> bool:
        """Whether the label ``annotation_id`` is counted now."""
        return annotation_id in self._labels

    def add(self, row: Mapping[str, Any]) -> None:
        """Count one new (or restored) label; ``row`` has the keys in ``_FIELDS``."""
        missing = [f for f in _FIELDS if f not in row]
        if missing:
            raise LiveStatsError(f"LiveStats.add: row lacks {', '.join(missing)}")
        self._add(*(row[f] for f in _FIELDS))

    def _add(self, aid: Any, cid: Any, gen: str, group: str, kind: str, p: Any) -> None:
        if aid in self._labels:
            raise LiveStatsError(f"LiveStats.add: annotation {aid} is already counted")
        value = _checked(p, f"LiveStats.add: annotation {aid}")
        key = (gen, group)
        self._labels[aid] = (key, kind, cid, value)
        self._count(key, kind, cid, value, +1)

    def retract(self, row: Mapping[str, Any] | Any) -> None:
        """Uncount a label: a row mapping with ``annotation_id`` or the id itself."""
        aid = row["annotation_id"] if isinstance(row, Mapping) else row
        if aid not in self._labels:
            raise LiveStatsError(f"LiveStats.retract: annotation {aid} is not counted")
        key, kind, cid, value = self._labels.pop(aid)
        self._count(key, kind, cid, value, -1)

    def _count(self, key: tuple[str, str], kind: str, cid: Any, value: float | None, weight: int) -> None:
        sums = self._sums.get(key)
        if sums is None:
            sums = self._sums[key] = WinRateSums()
        sums.add(value, weight)
        if sums.empty:
            del self._sums[key]
            self._cache.pop(key, None)
            self._dirty.discard(key)
        else:
            self._dirty.add(key)
        self.agreement.add(kind, key[1], cid, value, weight)
        self._version += 1

    def snapshot(self) -> LiveSnapshot:
        """Frozen statistics now (finalises only the groups touched since the last call)."""
        for key in self._dirty:
            self._cache[key] = self._sums[key].finalise()
        self._dirty.clear()
        return LiveSnapshot(
            self._version,
            len(self._labels),
            MappingProxyType(dict(self._cache)),
            MappingProxyType(self.agreement.finalise()),
        )
