"""Confidence intervals for win rates with ties: tie-adjusted Wilson, t, and BCa bootstrap."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from tiebreak.core.metrics import EmptySelection
from tiebreak.core.metrics.accumulate import wilson_bounds, z_value
from tiebreak.core.metrics.winrate import DEFAULT_KEYS, clean_preferences

__all__ = ["Interval", "wilson_interval", "t_interval", "bca_interval", "interval_table"]

DEFAULT_RESAMPLES = 9999
DEFAULT_SEED = 20240601


class Interval(NamedTuple):
    """A two-sided interval on the fraction scale; ``note`` explains a degenerate one."""

    low: float
    high: float
    note: str = ""


def _scores(s: Sequence[float] | np.ndarray, where: str) -> np.ndarray:
    arr = np.asarray(s, dtype=float)
    if arr.size == 0:
        raise EmptySelection(f"{where}: no scores given (empty selection)")
    return arr


def _z(confidence: float) -> float:
    # the stdlib quantile (scipy.stats.norm.ppf within 1 ulp): scipy.stats is imported only for
    # the t and bootstrap intervals, so the default leaderboard does not pay for it
    return z_value(confidence)


def wilson_interval(s: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Interval:
    """Tie-adjusted Wilson score interval for the mean of s = preference - 1 in [0, 1].

    Solves n (s_bar - mu)^2 = z^2 (mu (1 - mu) - v) for mu, where v = mean(s (1 - s)); for
    labels in {0, 0.5, 1} v = p_tie / 4 (docs/statistics.md §3), and the same identity
    Var(s) = mu (1 - mu) - E[s (1 - s)] covers soft (fractional) labels.

    Parameters
    ----------
    s : array-like
        Scores in [0, 1] (already cleaned: no NaN).
    confidence : float
        Two-sided coverage, default 0.95.
    """
    arr = _scores(s, "wilson_interval")
    lo, hi = wilson_bounds(arr.size, float(arr.mean()), float(np.mean(arr * (1 - arr))), _z(confidence))
    return Interval(float(lo), float(hi))


def t_interval(s: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Interval:
    """Student t interval mean +- t_{n-1} * SEM (AlpacaEval's standard error); NaN if n < 2."""
    from scipy import stats

    arr = _scores(s, "t_interval")
    if arr.size < 2:
        return Interval(float("nan"), float("nan"), "one label: t interval undefined")
    half = stats.t.ppf(0.5 + confidence / 2, arr.size - 1) * arr.std(ddof=1) / np.sqrt(arr.size)
    return Interval(float(arr.mean() - half), float(arr.mean() + half))


def bca_interval(
    s: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """Bias-corrected and accelerated bootstrap interval of the mean (scipy.stats.bootstrap).

    Parameters
    ----------
    s : array-like
        Scores in [0, 1].
    confidence : float
        Two-sided coverage.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling generator (results are reproducible).

    Returns
    -------
    Interval
        NaN bounds with a note when fewer than 2 labels; a zero-width interval with a note
        when all scores are equal (nothing to resample).
    """
    from scipy import stats

    arr = _scores(s, "bca_interval")
    if arr.size < 2:
        return Interval(float("nan"), float("nan"), "one label: bootstrap undefined")
    if np.ptp(arr) == 0:
        return Interval(float(arr[0]), float(arr[0]), "all labels equal: zero-width interval")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(
            (arr,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
            method="BCa", rng=np.random.default_rng(seed), vectorized=True, axis=-1,
        )  # fmt: skip
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if np.isnan(lo) or np.isnan(hi):
        return Interval(lo, hi, "bootstrap distribution degenerate: BCa undefined")
    return Interval(lo, hi)


def interval_table(
    frame: pd.DataFrame,
    keys: Sequence[str] = DEFAULT_KEYS,
    confidence: float = 0.95,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    bootstrap: bool = True,
) -> pd.DataFrame:
    """Wilson and (optionally) BCa intervals for every group of ``keys`` (fraction scale).

    Parameters
    ----------
    frame : pandas.DataFrame
        Annotation rows with the ``keys`` columns and ``preference`` (cleaned as AlpacaEval).
    keys : sequence of str
        Grouping columns (default candidate, reference, annotator group).
    confidence, n_resamples, seed : see :func:`bca_interval`.
    bootstrap : bool
        Also compute the BCa interval (one bootstrap per group).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``keys``: wilson_low, wilson_high, bca_low, bca_high, interval_note.
    """
    if len(frame) == 0:
        raise EmptySelection("interval_table: the selection holds no annotations")
    rows = {}
    for key, group in frame.groupby(list(keys), sort=True, dropna=False):
        x, _ = clean_preferences(group["preference"])
        if x.size == 0:
            rows[key] = (np.nan, np.nan, np.nan, np.nan, "no parsed labels: intervals undefined")
            continue
        w = wilson_interval(x, confidence)
        b = (
            bca_interval(x, confidence, n_resamples, seed)
            if bootstrap
            else Interval(np.nan, np.nan)
        )
        rows[key] = (w.low, w.high, b.low, b.high, b.note)
    out = pd.DataFrame.from_dict(
        rows,
        orient="index",
        columns=["wilson_low", "wilson_high", "bca_low", "bca_high", "interval_note"],
    )
    out.index = pd.MultiIndex.from_tuples(
        [k if isinstance(k, tuple) else (k,) for k in out.index], names=list(keys)
    )
    return out
