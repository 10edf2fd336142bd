"""Tie-adjusted Wilson, t and BCa intervals: statistics.md worked numbers, edge cases, coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tiebreak.core.metrics import EmptySelection
from tiebreak.core.metrics.intervals import (
    bca_interval,
    interval_table,
    t_interval,
    wilson_interval,
)

WORKED = np.array([1.0] * 9 + [0.5] * 3 + [0.0] * 8)  # n = 20: 9 wins, 3 ties, 8 losses


def test_worked_example_statistics_md_section_3():
    assert WORKED.mean() == pytest.approx(0.525)
    w = wilson_interval(WORKED)
    assert (round(w.low, 3), round(w.high, 3)) == (0.336, 0.706)
    t = t_interval(WORKED)
    assert (round(t.low, 3), round(t.high, 3)) == (0.304, 0.746)
    b = bca_interval(WORKED)
    assert b.low == pytest.approx(0.325, abs=0.01) and b.high == pytest.approx(0.725, abs=0.01)


def test_wilson_solves_its_quadratic():
    n, s_bar, v, z = WORKED.size, WORKED.mean(), 0.15 / 4, 1.959963984540054
    for mu in wilson_interval(WORKED)[:2]:
        assert n * (s_bar - mu) ** 2 == pytest.approx(z**2 * (mu * (1 - mu) - v))


def test_wilson_without_ties_is_the_classic_wilson_interval():
    s = np.array([1.0] * 7 + [0.0] * 13)
    n, p, z = 20, 0.35, 1.959963984540054
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    w = wilson_interval(s)
    assert (w.low, w.high) == pytest.approx((centre - half, centre + half))


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
    """statistics.md: the t interval undercovers below 10%; the Wilson interval does not."""
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
