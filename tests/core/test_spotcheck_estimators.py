"""Estimators of the human-anchored win rate: worked numbers, ppi-python oracle, coverage."""

from __future__ import annotations

import numpy as np
import pytest

from tiebreak.core.review.estimators import (
    EstimatorError,
    horvitz_thompson,
    human_only,
    judge_only,
    ppi_lambda,
    ppi_mean,
    reviews_needed,
)
from tiebreak.core.review.sampling import draw

F = np.array([1, 1, 0, 1, 0.5, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0.5, 0, 1, 1])
Y = np.array([1, 0, 0, 1, 0.5, 1, 1, 0])


def test_worked_numbers_statistics_md_section_1():
    assert judge_only(F).estimate == pytest.approx(0.650)
    assert human_only(Y).estimate == pytest.approx(0.5625)
    assert ppi_mean(Y, F[:8], F[8:], lam=1.0).estimate == pytest.approx(0.7083, abs=5e-5)
    assert ppi_lambda(Y, F[:8], F[8:]) == pytest.approx(0.2529, abs=5e-5)
    pp = ppi_mean(Y, F[:8], F[8:], lam=None)
    assert pp.method == "PPI++"
    assert pp.lam == pytest.approx(0.2529, abs=5e-5)
    assert pp.estimate == pytest.approx(0.5994, abs=5e-5)
    assert (pp.lower, pp.upper) == pytest.approx((0.2965, 0.9023), abs=5e-5)


def test_worked_number_horvitz_thompson_section_2():
    est = horvitz_thompson([0.9, 0.5, 0.2, 0.6], [0.2, 0.9, 0.3, 0.6], [0, 1, 1, 0], [1, 0])
    assert est.estimate == pytest.approx(0.5222, abs=5e-5)
    # SE by hand: sqrt(0.1*0.25/0.81 + 0.7*0.04/0.09) / 4
    assert est.standard_error == pytest.approx(np.sqrt(0.1 * 0.25 / 0.81 + 0.7 * 0.04 / 0.09) / 4)


def test_finite_population_difference_estimator_by_hand():
    est = ppi_mean(Y, F[:8], F, lam=1.0, finite_population=True)
    d = Y - F[:8]
    assert est.estimate == pytest.approx(F.mean() + d.mean())
    assert est.standard_error == pytest.approx(np.sqrt((1 - 8 / 20) * d.var(ddof=1) / 8))
    census = ppi_mean(F, F, F, finite_population=True)  # everything labelled: no uncertainty left
    assert census.standard_error == 0


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("lam", [1.0, None, 0.4])
def test_ppi_python_oracle_uniform_case(seed, lam):
    ppi_py = pytest.importorskip("ppi_py")
    rng = np.random.default_rng(seed)
    n, big_n = 40 + 10 * seed, 300
    f = rng.choice([0.0, 0.5, 1.0], size=n + big_n, p=[0.4, 0.1, 0.5])
    y = np.where(rng.random(n) < 0.75, f[:n], rng.choice([0.0, 0.5, 1.0], size=n))
    mine = ppi_mean(y, f[:n], f[n:], lam=lam)
    lo, hi = ppi_py.ppi_mean_ci(y, f[:n], f[n:], alpha=0.05, lam=lam)
    point = ppi_py.ppi_mean_pointestimate(y, f[:n], f[n:], lam=lam)
    assert mine.estimate == pytest.approx(float(np.ravel(point)[0]))
    assert (mine.lower, mine.upper) == pytest.approx((float(lo[0]), float(hi[0])))


def _population(rng, big_n=600):
    """A finite population: humans win with probability q; the judge says q + 0.1 + noise."""
    q = rng.beta(0.7, 0.7, big_n)
    u = rng.random(big_n)
    y = np.where(u < 0.9 * q, 1.0, np.where(u < 0.9 * q + 0.1, 0.5, 0.0))
    f = np.clip(q + 0.1 + rng.normal(0, 0.1, big_n), 0.01, 0.99)
    return f, y


def test_interval_coverage_500_simulations():
    rng = np.random.default_rng(20261129)
    f, y = _population(rng)
    truth, big_n, n, sims = y.mean(), f.size, 80, 500
    hits = {"PPI": 0, "PPI++": 0, "HT": 0, "human": 0}
    picks = np.argsort(rng.random((sims, big_n)), axis=1)[:, :n]  # SRSWOR, vectorised
    for s in range(sims):
        idx = picks[s]
        rest = np.setdiff1d(np.arange(big_n), idx, assume_unique=True)
        for key, est in (
            ("PPI", ppi_mean(y[idx], f[idx], f, finite_population=True)),
            ("PPI++", ppi_mean(y[idx], f[idx], f[rest], lam=None)),
            ("human", human_only(y[idx], big_n)),
        ):
            hits[key] += est.lower <= truth <= est.upper
        d = draw("uncertainty", f, n, rng)
        ht = horvitz_thompson(f, d.pi, d.drawn, y)
        hits["HT"] += ht.lower <= truth <= ht.upper
    coverage = {k: v / sims for k, v in hits.items()}
    assert all(c >= 0.93 for c in coverage.values()), coverage
    assert judge_only(f).upper < truth or judge_only(f).lower > truth  # the judge alone is biased


def test_top_uncertain_treated_as_random_is_biased():
    rng = np.random.default_rng(3)
    f, y = _population(rng)
    top = np.argsort(-np.sqrt(f * (1 - f)), kind="stable")[:100]
    wrong = ppi_mean(y[top], f[top], f, finite_population=True).estimate
    assert abs(wrong - y.mean()) > 0.01  # the bias the audit stream is there to avoid


def test_reviews_needed_reaches_width():
    rng = np.random.default_rng(1)
    f, y = _population(rng)
    idx = rng.choice(f.size, 40, replace=False)
    sd = float(np.std(y[idx] - f[idx], ddof=1))
    more = reviews_needed(sd, 40, f.size, 0.10)
    assert more > 0
    n = 40 + more
    width = 2 * 1.959964 * np.sqrt((1 - n / f.size) * sd**2 / n)
    assert width <= 0.10 + 1e-9
    n1 = n - 1
    assert 2 * 1.959964 * np.sqrt((1 - n1 / f.size) * sd**2 / n1) > 0.10
    assert reviews_needed(sd, 40, f.size, 10.0) == 0


def test_invalid_inputs_raise_named_errors():
    with pytest.raises(EstimatorError, match="scores must be in"):
        judge_only([0.2, 1.5])
    with pytest.raises(EstimatorError, match="2 human labels but 3"):
        ppi_mean([1, 0], [1, 0, 1], [1])
    with pytest.raises(EstimatorError, match="inclusion probabilities"):
        horvitz_thompson([0.5], [0.0], [1], [1])
    with pytest.raises(EstimatorError, match="target width"):
        reviews_needed(0.3, 10, 100, 0)
