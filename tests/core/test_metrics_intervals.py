"""Tie-adjusted Wilson, t and BCa intervals: docs/statistics.md §3 worked numbers, oracles, coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from tiebreak.core.metrics import EmptySelection
from tiebreak.core.metrics.intervals import (
    bca_interval,
    interval_table,
    t_interval,
    wilson_interval,
)

WORKED = np.array([1.0] * 9 + [0.5] * 3 + [0.0] * 8)  # n = 20: 9 wins, 3 ties, 8 losses


def test_worked_example_docs_statistics_section_3():
    assert WORKED.mean() == pytest.approx(0.525)
    w = wilson_interval(WORKED)
    assert (round(w.low, 3), round(w.high, 3)) == (0.336, 0.706)
    t = t_interval(WORKED)
    assert (round(t.low, 3), round(t.high, 3)) == (0.304, 0.746)
    b = bca_interval(WORKED)
    assert b.low == pytest.approx(0.325, abs=0.01) and b.high == pytest.approx(0.725, abs=0.01)


def test_wilson_bounds_are_where_the_score_test_rejects():
    """Independent reference: the tie-adjusted interval inverts the score test of mean = mu.

    Under H0 (tie share t fixed) a score follows the three-point law P(1) = mu - t/2,
    P(0.5) = t, P(0) = 1 - mu - t/2; its variance comes from ``scipy.stats.rv_discrete`` (not
    from our closed form), and at both bounds the two-sided normal p-value equals 1 - confidence.
    """
    n, s_bar, tie = WORKED.size, WORKED.mean(), float(np.mean(WORKED == 0.5))
    for confidence in (0.80, 0.95, 0.99):
        w = wilson_interval(WORKED, confidence)
        for mu in (w.low, w.high):
            law = stats.rv_discrete(values=([0, 1, 2], [1 - mu - tie / 2, tie, mu - tie / 2]))
            var = law.var() / 4  # the support is 2 s
            p_value = 2 * stats.norm.sf(abs(s_bar - mu) / math.sqrt(var / n))
            assert p_value == pytest.approx(1 - confidence, abs=1e-9)


@pytest.mark.parametrize("confidence", [0.80, 0.95, 0.99])
@pytest.mark.parametrize(("wins", "n"), [(7, 20), (0, 15), (1, 30), (29, 30), (50, 50), (413, 805)])
def test_wilson_without_ties_equals_statsmodels(wins, n, confidence):
    """Oracle: ``statsmodels.stats.proportion.proportion_confint(method="wilson")``."""
    s = np.array([1.0] * wins + [0.0] * (n - wins))
    want = proportion_confint(wins, n, alpha=1 - confidence, method="wilson")
    w = wilson_interval(s, confidence)
    assert (w.low, w.high) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_t_interval_equals_scipy(seed):
    """Oracle: ``scipy.stats.t.interval`` around the mean with ``scipy.stats.sem`` as scale."""
    s = np.random.default_rng(seed).choice([0.0, 0.5, 1.0, 0.25], size=17 + 10 * seed)
    want = stats.t.interval(0.95, s.size - 1, loc=s.mean(), scale=stats.sem(s))
    assert tuple(t_interval(s)[:2]) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_bca_equals_scipy_bootstrap(seed):
    """Oracle: ``scipy.stats.bootstrap(method="BCa")`` with the same seeded generator."""
    rng = np.random.default_rng(100 + seed)
    s = np.where(rng.random(40) < 0.2, 0.5, (rng.random(40) < 0.3 + 0.2 * seed).astype(float))
    want = stats.bootstrap((s,), np.mean, confidence_level=0.9, n_resamples=1999, method="BCa",
                           rng=np.random.default_rng(7))  # fmt: skip
    got = bca_interval(s, confidence=0.9, n_resamples=1999, seed=7)
    ci = want.confidence_interval
    assert (got.low, got.high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert got.note == ""


def test_bca_is_seeded_and_reproducible():
    rng = np.random.default_rng(3)
    s = rng.random(50)
    assert bca_interval(s, seed=1) == bca_interval(s, seed=1)
    assert bca_interval(s, seed=1) != bca_interval(s, seed=2)


def test_edge_cases_are_defined():
    with pytest.raises(EmptySelection):
        wilson_interval([])
    one = bca_interval([1.0])
    assert math.isnan(one.low) and "one label" in one.note
    assert "one label" in t_interval([1.0]).note
    lo, hi = wilson_interval([1.0])[:2]
    assert 0 < lo < hi == 1.0
    ties = bca_interval([0.5] * 10)
    assert (ties.low, ties.high) == (0.5, 0.5) and "all labels equal" in ties.note
    assert wilson_interval([0.5] * 10)[:2] == (0.5, 0.5)


def test_wilson_covers_better_than_t_at_low_rates():
    """docs/statistics.md §3: the t interval undercovers below 10%; the Wilson interval does not."""
    rng = np.random.default_rng(11)
    n, truth, reps = 30, 0.06, 1500
    wins = rng.random((reps, n)) < truth
    cover_w = cover_t = 0
    for row in wins.astype(float):
        w, t = wilson_interval(row), t_interval(row)
        cover_w += w.low <= truth <= w.high
        cover_t += (t.low <= truth <= t.high) if not math.isnan(t.low) else 0
    assert cover_w / reps > 0.93
    assert cover_t / reps < cover_w / reps - 0.05


def test_interval_table_per_group_with_unparsed_group():
    frame = pd.DataFrame({
        "generator_2": ["a"] * 20 + ["b"] * 3, "generator_1": "r", "annotator": "j",
        "preference": list(WORKED + 1) + [None, None, None],
    })  # fmt: skip
    table = interval_table(frame, n_resamples=999)
    a = table.loc[("a", "r", "j")]
    assert (round(a.wilson_low, 3), round(a.wilson_high, 3)) == (0.336, 0.706)
    assert a.bca_low < 0.525 < a.bca_high
    b = table.loc[("b", "r", "j")]
    assert math.isnan(b.wilson_low) and "no parsed labels" in b.interval_note
