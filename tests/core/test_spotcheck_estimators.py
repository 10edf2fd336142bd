"""Estimators of the human-anchored win rate: worked numbers, ppi-python oracle, coverage."""

from __future__ import annotations

import itertools

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


def test_worked_numbers_docs_statistics_section_1():
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
    assert est.standard_error == pytest.approx(0.1462, abs=5e-5)  # docs/statistics.md §2


def _design_moments(samples):
    """Exact mean and variance of an estimator over a design, and the mean of its SE^2.

    ``samples`` lists (probability, Estimate) over every possible sample: the reference is the
    sampling design itself, enumerated, not a variance formula.
    """
    prob = np.array([p for p, _ in samples])
    est = np.array([e.estimate for _, e in samples])
    se2 = np.array([e.standard_error**2 for _, e in samples])
    assert prob.sum() == pytest.approx(1.0)
    mean = float(prob @ est)
    return mean, float(prob @ (est - mean) ** 2), float(prob @ se2)


def test_horvitz_thompson_is_unbiased_with_an_unbiased_variance_over_every_poisson_sample():
    f = np.array([0.9, 0.5, 0.2, 0.6, 0.1])
    pi = np.array([0.2, 0.9, 0.3, 0.6, 0.5])
    y = np.array([1.0, 1.0, 0.0, 0.5, 0.0])
    samples = []
    for xi in itertools.product([False, True], repeat=f.size):
        xi = np.array(xi)
        prob = float(np.prod(np.where(xi, pi, 1 - pi)))
        samples.append((prob, horvitz_thompson(f, pi, xi, y)))
    mean, variance, mean_se2 = _design_moments(samples)
    assert mean == pytest.approx(y.mean(), abs=1e-12)  # design-unbiased for the human win rate
    assert mean_se2 == pytest.approx(variance, abs=1e-12)  # and so is its variance estimate


@pytest.mark.parametrize("lam", [1.0, 0.5])
def test_finite_population_difference_estimator_over_every_sample_without_replacement(lam):
    f = np.array([1, 0.5, 0, 1, 0.8, 0.2, 1])
    y = np.array([1, 1, 0, 0.5, 1, 0, 0])
    n = 3
    samples = []
    combos = list(itertools.combinations(range(f.size), n))
    for idx in map(list, combos):
        samples.append((1 / len(combos), ppi_mean(y[idx], f[idx], f, lam=lam, finite_population=True)))
    mean, variance, mean_se2 = _design_moments(samples)
    assert mean == pytest.approx(y.mean(), abs=1e-12)
    assert mean_se2 == pytest.approx(variance, abs=1e-12)
    human = [(1 / len(combos), human_only(y[list(c)], f.size)) for c in combos]
    mean, variance, mean_se2 = _design_moments(human)
    assert mean == pytest.approx(y.mean(), abs=1e-12)
    assert mean_se2 == pytest.approx(variance, abs=1e-12)
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


def _labelled_with_residual_sd(n: int, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """n labelled items (y, f) whose residuals y - f have sample SD exactly ``sd``."""
    c = sd if n % 2 else sd * np.sqrt((n - 1) / n)  # +c, -c pairs (and a 0 when n is odd)
    r = np.array([c, -c] * (n // 2) + [0.0] * (n % 2))
    assert np.std(r, ddof=1) == pytest.approx(sd)
    return 0.5 + r, np.full(n, 0.5)


def test_reviews_needed_reaches_width():
    """The answer is checked against the width the estimator itself then reports."""
    rng = np.random.default_rng(1)
    f, y = _population(rng)
    idx = rng.choice(f.size, 40, replace=False)
    sd = float(np.std(y[idx] - f[idx], ddof=1))
    more = reviews_needed(sd, 40, f.size, 0.10)
    assert more > 0
    pool = np.full(f.size, 0.5)
    for n, fits in ((40 + more, True), (40 + more - 1, False)):
        y_n, f_n = _labelled_with_residual_sd(n, sd)
        width = ppi_mean(y_n, f_n, pool, finite_population=True).width
        assert (width <= 0.10 + 1e-9) is fits, (n, width)
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
