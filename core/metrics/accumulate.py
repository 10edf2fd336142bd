"""The one accumulator of win-rate sufficient statistics (add, retract, merge, finalise); no numpy.

Every win rate Tiebreak shows comes from :class:`WinRateSums` and :func:`finalise`: the live
labelling statistics add and retract one label at a time, the database keeps the very same sums
in its ``winrate_sums`` table (migration ``0006_winrate_sums``, same columns, same rounding), and
the batch leaderboard sums a frame per group with numpy and hands each group to :func:`finalise`.

Sums of x = p - 1 and x^2 are kept as an integer in units of 2^-32 (``round(v * 2^32)``, rounded
half away from zero exactly as SQLite's ``round``) plus a float remainder, so a retraction undoes
an addition exactly in the integer part whatever the history (the remainder is 0 for the labels
0, 0.5 and 1 humans give, and below 2^-33 per label for soft judge labels).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from statistics import NormalDist
from typing import Any

from tiebreak.core.metrics import MetricsError

__all__ = [
    "SCALE", "MIN_LABELS_FOR_INTERVAL", "SUMS_FIELDS", "WinRate", "WinRateSums", "clean_preference",
    "finalise", "wilson_bounds", "z_value",
]  # fmt: skip

#: Fixed-point scale of the integer part of the sums (the ``winrate_sums`` table uses the same).
SCALE = 4294967296  # 2^32
#: An interval needs at least this many parsed labels (one label gives the empty "50-50%").
MIN_LABELS_FOR_INTERVAL = 2
#: Columns of the ``winrate_sums`` table, in order: the sufficient statistics of one group.
SUMS_FIELDS = (
    "n_total", "n_dropped", "sum_x_fixed", "sum_x_rest", "sum_x2_fixed", "sum_x2_rest",
    "n_wins", "n_wins_base", "n_draws",
)  # fmt: skip
_Z: dict[float, float] = {}


def z_value(confidence: float = 0.95) -> float:
    """Two-sided normal quantile for ``confidence`` (``scipy.stats.norm.ppf`` within 1 ulp)."""
    z = _Z.get(confidence)
    if z is None:
        if not 0 < confidence < 1:
            raise MetricsError(f"confidence must be in (0, 1), got {confidence}")
        z = _Z[confidence] = NormalDist().inv_cdf(0.5 + confidence / 2)
    return z


def clean_preference(p: Any) -> float | None:
    """AlpacaEval's cleaning of one preference: legacy 0 -> 1.5; None, NaN, text, outside [1, 2] -> None."""
    if p is None:
        return None
    try:
        value = float(p)
    except (TypeError, ValueError):
        return None
    if value == 0:
        return 1.5
    return value if 1.0 <= value <= 2.0 else None  # NaN fails both comparisons


def _split(v: float) -> tuple[int, float]:
    """``v`` >= 0 as (integer units of 2^-32, float remainder), rounding as SQLite's round()."""
    fixed = math.floor(v * SCALE + 0.5)
    return fixed, v - fixed / SCALE


def wilson_bounds(n: int, mean: float, v: float, z: float) -> tuple[float, float]:
    """Roots of the tie-adjusted Wilson quadratic n (mean - mu)^2 = z^2 (mu (1 - mu) - v).

    ``v`` is the mean of s (1 - s) over the labels (p_tie / 4 for labels 0, 0.5, 1); see
    docs/statistics.md section 3.
    """
    b = 2 * n * mean + z * z
    root = math.sqrt(max(b * b - 4 * (n + z * z) * (n * mean * mean + z * z * v), 0.0))
    den = 2 * (n + z * z)
    return max((b - root) / den, 0.0), min((b + root) / den, 1.0)


@dataclass(frozen=True, slots=True)
class WinRate:
    """A finalised win rate (fractions). Rates are NaN without a parsed label; ``low``/``high`` are
    NaN below :data:`MIN_LABELS_FOR_INTERVAL` labels and ``note`` then says why."""

    n_total: int
    n_dropped: int
    win_rate: float
    standard_error: float
    low: float
    high: float
    n_wins: int
    n_wins_base: int
    n_draws: int
    discrete_win_rate: float
    note: str = ""

    @property
    def has_interval(self) -> bool:
        """Whether ``low``/``high`` are defined."""
        return not math.isnan(self.low)


def _note(n_total: int, n_dropped: int) -> str:
    parts = []
    if n_total == 0:
        parts.append("no parsed labels: rates undefined")
    elif n_total < MIN_LABELS_FOR_INTERVAL:
        parts.append("one label (too few labels): standard error undefined, no interval")
    if n_dropped:
        parts.append(f"{n_dropped} unparsed row(s) dropped")
    return "; ".join(parts)


def finalise(
    n_total: int, n_dropped: int, sum_x: float, sum_x2: float, n_wins: int, n_wins_base: int,
    n_draws: int, confidence: float = 0.95,
) -> WinRate:  # fmt: skip
    """The win-rate row from one group's sufficient statistics (the only place it is computed).

    Parameters
    ----------
    n_total, n_dropped : int
        Parsed labels, and labels dropped as unparsed (null, NaN, outside [1, 2]).
    sum_x, sum_x2 : float
        Sum of x = p - 1 and of x^2 over the parsed labels.
    n_wins, n_wins_base, n_draws : int
        Labels with x > 0.5, x < 0.5, x == 0.5.
    confidence : float
        Coverage of the tie-adjusted Wilson interval.

    Returns
    -------
    WinRate
        win_rate = mean(x); standard_error = std(x, ddof=1) / sqrt(n) (AlpacaEval, from the sums:
        (sum_x2 - sum_x * mean) / (n - 1), clipped at 0); the tie-adjusted Wilson interval with
        v = (sum_x - sum_x2) / n; discrete_win_rate = (n_wins + n_draws / 2) / n.
    """
    nan = math.nan
    if n_total <= 0:
        return WinRate(0, n_dropped, nan, nan, nan, nan, 0, 0, 0, nan, _note(0, n_dropped))
    mean = sum_x / n_total
    se = low = high = nan
    if n_total >= MIN_LABELS_FOR_INTERVAL:
        se = math.sqrt(max(sum_x2 - sum_x * mean, 0.0) / (n_total - 1) / n_total)
        v = min(max((sum_x - sum_x2) / n_total, 0.0), 0.25)
        low, high = wilson_bounds(n_total, mean, v, z_value(confidence))
    discrete = (n_wins + 0.5 * n_draws) / n_total
    return WinRate(n_total, n_dropped, mean, se, low, high, n_wins, n_wins_base, n_draws, discrete,
                   _note(n_total, n_dropped))  # fmt: skip


@dataclass(slots=True)
class WinRateSums:
    """Sufficient statistics of one win rate; field for field a row of the ``winrate_sums`` table."""

    n_total: int = 0
    n_dropped: int = 0
    sum_x_fixed: int = 0
    sum_x_rest: float = 0.0
    sum_x2_fixed: int = 0
    sum_x2_rest: float = 0.0
    n_wins: int = 0
    n_wins_base: int = 0
    n_draws: int = 0

    @classmethod
    def of(cls, preferences: Any) -> WinRateSums:
        """The sums of an iterable of preferences."""
        sums = cls()
        for p in preferences:
            sums.add(p)
        return sums

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> WinRateSums:
        """From a mapping with the :data:`SUMS_FIELDS` keys (e.g. a ``winrate_sums`` row)."""
        missing = [f for f in SUMS_FIELDS if f not in row]
        if missing:
            raise MetricsError(f"WinRateSums.from_row: row lacks {', '.join(missing)}")
        return cls(*(row[f] for f in SUMS_FIELDS))

    def add(self, preference: Any, weight: int = 1) -> None:
        """Count one label (``weight`` -1 uncounts it); unparsed values count as dropped."""
        p = clean_preference(preference)
        if p is None:
            self.n_dropped += weight
            return
        x = p - 1.0
        fx, rx = _split(x)
        fx2, rx2 = _split(x * x)
        self.n_total += weight
        self.sum_x_fixed += weight * fx
        self.sum_x_rest += weight * rx
        self.sum_x2_fixed += weight * fx2
        self.sum_x2_rest += weight * rx2
        if x > 0.5:
            self.n_wins += weight
        elif x < 0.5:
            self.n_wins_base += weight
        else:
            self.n_draws += weight
        if self.n_total == 0:  # nothing left: drop the remainders' rounding residue
            self.sum_x_rest = self.sum_x2_rest = 0.0

    def retract(self, preference: Any) -> None:
        """Uncount a label counted before with :meth:`add`."""
        self.add(preference, -1)

    def merge(self, other: WinRateSums) -> WinRateSums:
        """The sums of both label sets (a new object)."""
        return WinRateSums(*(getattr(self, f) + getattr(other, f) for f in SUMS_FIELDS))

    @property
    def empty(self) -> bool:
        """No label counted (neither parsed nor dropped)."""
        return self.n_total == 0 and self.n_dropped == 0

    @property
    def sum_x(self) -> float:
        """Sum of x = p - 1 over the parsed labels."""
        return self.sum_x_fixed / SCALE + self.sum_x_rest

    @property
    def sum_x2(self) -> float:
        """Sum of x^2 over the parsed labels."""
        return self.sum_x2_fixed / SCALE + self.sum_x2_rest

    def as_row(self) -> dict[str, Any]:
        """The :data:`SUMS_FIELDS` as a dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def finalise(self, confidence: float = 0.95) -> WinRate:
        """:func:`finalise` of these sums."""
        return finalise(self.n_total, self.n_dropped, self.sum_x, self.sum_x2, self.n_wins,
                        self.n_wins_base, self.n_draws, confidence)  # fmt: skip
