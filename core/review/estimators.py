"""Human-anchored win-rate estimators: judge-only, human-only, PPI, PPI++ and Horvitz-Thompson.

Scores are coded s = preference - 1 in [0, 1] (1 = the model beats the reference, 0.5 = tie).
Every estimator returns an :class:`Estimate` with a normal-approximation 95% interval.
Definitions and worked numbers: docs/statistics.md §1 (PPI) and §2 (Horvitz-Thompson).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from tiebreak.core.errors import TiebreakError

__all__ = [
    "Estimate",
    "EstimatorError",
    "judge_only",
    "human_only",
    "ppi_mean",
    "ppi_lambda",
    "horvitz_thompson",
    "reviews_needed",
]

DEFAULT_ALPHA = 0.05


class EstimatorError(TiebreakError, ValueError):
    """The inputs of an estimator are inconsistent (sizes, ranges, probabilities)."""


@dataclass(frozen=True)
class Estimate:
    """One estimate of a win rate (fraction) with its standard error and interval."""

    method: str
    estimate: float
    standard_error: float
    lower: float
    upper: float
    n_labelled: int
    n_total: int
    lam: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def width(self) -> float:
        """Width of the interval (upper - lower)."""
        return self.upper - self.lower

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for CSV / JSON output)."""
        d = asdict(self)
        d["notes"] = "; ".join(self.notes)
        return d


def _array(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size and (np.isnan(arr).any() or arr.min() < 0 or arr.max() > 1):
        raise EstimatorError(f"{name}: scores must be in [0, 1] without NaN (got {arr.tolist()[:5]}...)")
    return arr


def _z(alpha: float) -> float:
    """The two-sided normal quantile (``scipy.stats.norm.ppf`` within 1 ulp; no scipy import for the screens)."""
    return NormalDist().inv_cdf(1 - alpha / 2)


def _make(method: str, est: float, se: float, n: int, total: int, alpha: float, **kw: Any) -> Estimate:
    z = _z(alpha)
    return Estimate(method, float(est), float(se), float(est - z * se), float(est + z * se), n, total, **kw)


def judge_only(f: Any, *, alpha: float = DEFAULT_ALPHA) -> Estimate:
    """Mean judge score over all N verdicts (the judge's own win rate, no human correction).

    Parameters
    ----------
    f : array-like
        Judge scores in [0, 1] for all N comparisons.
    alpha : float
        Error level of the interval (0.05 gives a 95% interval).

    Returns
    -------
    Estimate
        Interval from the sample standard error of the judge scores (it says nothing about the
        judge's bias against humans).
    """
    f = _array(f, "f")
    if f.size == 0:
        raise EstimatorError("judge_only: no judge scores")
    se = f.std(ddof=1) / math.sqrt(f.size) if f.size > 1 else float("nan")
    return _make("judge-only", f.mean(), se, 0, f.size, alpha)


def human_only(y: Any, population: int | None = None, *, alpha: float = DEFAULT_ALPHA) -> Estimate:
    """Mean of the human labels of a uniform random sample (judge ignored).

    Parameters
    ----------
    y : array-like
        Human scores in [0, 1] of the n labelled items.
    population : int, optional
        Size N of the finite population the sample was drawn from without replacement; gives
        the finite-population correction (1 - n/N). None = infinite population.
    alpha : float
        Error level of the interval.
    """
    y = _array(y, "y")
    n = y.size
    if n == 0:
        raise EstimatorError("human_only: no human labels")
    fpc = 1.0 if population is None else max(0.0, 1 - n / population)
    se = math.sqrt(fpc * y.var(ddof=1) / n) if n > 1 else float("nan")
    return _make("human-only", y.mean(), se, n, population or n, alpha)


def ppi_lambda(y: Any, yhat: Any, yhat_pool: Any) -> float:
    """Power-tuning parameter of PPI++ for a mean (as ppi-python 0.2.3), clipped to [0, 1].

    lambda = Cov_L(Y, f) / ((1 + n / N) Var(f)), with the covariance over the labelled items
    (1/n) and the variance over labelled plus pool predictions (ddof 1).
    """
    y, yhat, pool = _array(y, "y"), _array(yhat, "yhat"), _array(yhat_pool, "yhat_pool")
    n, big_n = y.size, pool.size
    cov = float(np.mean((y - y.mean()) * (yhat - yhat.mean())))
    var = float(np.var(np.concatenate([yhat, pool]), ddof=1))
    if var == 0:
        return 0.0
    return float(np.clip(cov / ((1 + n / big_n) * var), 0.0, 1.0))


def ppi_mean(
    y: Any,
    yhat: Any,
    yhat_pool: Any,
    *,
    lam: float | None = 1.0,
    finite_population: bool = False,
    alpha: float = DEFAULT_ALPHA,
) -> Estimate:
    """Prediction-powered estimate of the human win rate: lam mean_pool(f) + mean_L(Y - lam f).

    Parameters
    ----------
    y, yhat : array-like
        Human scores and judge scores of the n labelled items (same order).
    yhat_pool : array-like
        Judge scores of the pool. With ``finite_population=False`` (ppi-python's convention) the
        pool is the unlabelled items, an independent sample; the SE is
        sqrt(lam^2 Var_pool(f)/N + Var_L(Y - lam f)/n) (ddof 0, as ppi-python).
        With ``finite_population=True`` the pool is the WHOLE finite population (labelled items
        included) from which the n were drawn uniformly without replacement; the pool mean is
        then known exactly and SE^2 = (1 - n/N) Var_L(Y - lam f) / n (ddof 1).
    lam : float or None
        1.0 = PPI (difference estimator); None = PPI++ power tuning (:func:`ppi_lambda`; with
        ``finite_population=True`` the regression optimum Cov_L(Y, f) / Var_L(f), clipped).
    alpha : float
        Error level of the interval.
    """
    y, yhat, pool = _array(y, "y"), _array(yhat, "yhat"), _array(yhat_pool, "yhat_pool")
    n, big_n = y.size, pool.size
    if n != yhat.size:
        raise EstimatorError(f"ppi_mean: {n} human labels but {yhat.size} judge scores for them")
    if n < 2 or big_n == 0:
        raise EstimatorError(f"ppi_mean: needs >= 2 labelled items and a non-empty pool (n={n}, N={big_n})")
    if finite_population and big_n < n:
        raise EstimatorError(f"ppi_mean: population N={big_n} smaller than the sample n={n}")
    tuned = lam is None
    if tuned:
        lam = _regression_lambda(y, yhat) if finite_population else ppi_lambda(y, yhat, pool)
    assert lam is not None
    est = lam * pool.mean() + np.mean(y - lam * yhat)
    if finite_population:
        se = math.sqrt(max(0.0, 1 - n / big_n) * np.var(y - lam * yhat, ddof=1) / n)
    else:
        se = math.sqrt(lam**2 * pool.var() / big_n + np.var(y - lam * yhat) / n)
    method = "PPI++" if tuned else ("PPI" if lam == 1.0 else f"PPI(lambda={lam:g})")
    total = big_n if finite_population else big_n + n
    return _make(method, est, se, n, total, alpha, lam=float(lam))


def _regression_lambda(y: np.ndarray, yhat: np.ndarray) -> float:
    """Lambda minimising Var_L(Y - lambda f) (the finite-population optimum), clipped to [0, 1]."""
    var = float(np.var(yhat, ddof=1))
    if var == 0:
        return 0.0
    return float(np.clip(np.cov(y, yhat, ddof=1)[0, 1] / var, 0.0, 1.0))


def horvitz_thompson(
    f: Any, pi: Any, sampled: Any, y: Any, *, alpha: float = DEFAULT_ALPHA
) -> Estimate:
    """Horvitz-Thompson difference estimate for items drawn independently with known pi_i.

    theta = (1/N) sum_i [f_i + xi_i (Y_i - f_i) / pi_i];
    SE = sqrt(sum_sampled (1 - pi_i) (Y_i - f_i)^2 / pi_i^2) / N (Poisson sampling).

    Parameters
    ----------
    f : array-like
        Judge scores of all N items.
    pi : array-like
        Inclusion probabilities of all N items (> 0 where sampled).
    sampled : array-like of bool
        xi_i: whether item i was drawn and labelled.
    y : array-like
        Human scores, either for all N items (ignored where not sampled; NaN allowed there) or
        only for the sampled items in order.
    alpha : float
        Error level of the interval.
    """
    f = _array(f, "f")
    pi = np.asarray(pi, dtype=float).ravel()
    xi = np.asarray(sampled, dtype=bool).ravel()
    if not (f.size == pi.size == xi.size):
        raise EstimatorError(f"horvitz_thompson: sizes differ (f {f.size}, pi {pi.size}, sampled {xi.size})")
    y = np.asarray(y, dtype=float).ravel()
    ys = y[xi] if y.size == f.size else y
    if ys.size != int(xi.sum()):
        raise EstimatorError(f"horvitz_thompson: {ys.size} labels for {int(xi.sum())} sampled items")
    ys = _array(ys, "y")
    ps = pi[xi]
    if ps.size and (ps.min() <= 0 or ps.max() > 1):
        raise EstimatorError("horvitz_thompson: inclusion probabilities of sampled items must be in (0, 1]")
    big_n = f.size
    d = ys - f[xi]
    est = (f.sum() + np.sum(d / ps)) / big_n
    se = math.sqrt(np.sum((1 - ps) * d**2 / ps**2)) / big_n
    return _make("Horvitz-Thompson", est, se, int(xi.sum()), big_n, alpha)


def reviews_needed(
    residual_sd: float, n_now: int, population: int, target_width: float, *, alpha: float = DEFAULT_ALPHA
) -> int:
    """Additional uniform reviews needed so the difference-estimator interval has ``target_width``.

    Solves 2 z sqrt((1 - n/N) s^2 / n) <= w for n, with s the SD of (Y - f) (or of Y for the
    human-only estimate); returns max(0, n - n_now). Capped at N - n_now (a full census).
    """
    if target_width <= 0:
        raise EstimatorError(f"reviews_needed: target width must be > 0 (got {target_width})")
    if not math.isfinite(residual_sd):
        raise EstimatorError("reviews_needed: residual SD unknown (need >= 2 labelled items)")
    z = _z(alpha)
    v = (residual_sd * 2 * z / target_width) ** 2  # n0 for an infinite population
    n = v / (1 + v / population)  # finite-population correction
    return int(min(max(0, math.ceil(n - 1e-9) - n_now), max(0, population - n_now)))
