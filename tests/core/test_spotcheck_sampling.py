"""Sampling designs: probabilities sum to n, floors and caps hold, draws follow the probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from tiebreak.core.review.sampling import SamplingError, allocate, draw, inclusion_probabilities


def test_allocate_proportional_with_minimum_one():
    assert allocate({"a": 100, "b": 50, "c": 50}, 8) == {"a": 4, "b": 2, "c": 2}
    alloc = allocate({"a": 990, "b": 10}, 5)
    assert alloc == {"a": 4, "b": 1} and sum(alloc.values()) == 5
    assert allocate({"a": 3, "b": 1}, 4) == {"a": 3, "b": 1}
    with pytest.raises(SamplingError, match="exceeds the 4 items"):
        allocate({"a": 3, "b": 1}, 5)


def test_uncertainty_probabilities_mix_floor_and_cap():
    f = np.array([0.5] * 5 + [0.99] * 95)
    pi = inclusion_probabilities("uncertainty", f, 10)
    assert pi.sum() == pytest.approx(10)
    assert pi.min() >= 0.2 * 10 / 100 - 1e-12  # the uniform share keeps every pi away from 0
    assert pi[:5].min() > pi[5:].max()
    capped = inclusion_probabilities("uncertainty", np.array([0.5, 0.5, 0.001, 0.001]), 3)
    assert capped.max() <= 1 and capped.sum() == pytest.approx(3)
    swap = inclusion_probabilities("uncertainty", np.full(4, 0.9), 2, uncertainty=np.array([0, 0, 0.4, 0.4]))
    assert swap[2] > swap[0] and swap.sum() == pytest.approx(2)


def test_draws_match_probabilities_on_average():
    rng = np.random.default_rng(0)
    f = rng.beta(0.5, 0.5, 200)
    hits = np.zeros(200)
    reps = 400
    for _ in range(reps):
        d = draw("uncertainty", f, 20, rng)
        hits += d.drawn
    pi = inclusion_probabilities("uncertainty", f, 20)
    assert np.abs(hits / reps - pi).max() < 0.1
    assert abs(hits.sum() / reps - 20) < 1
    strata = np.array(["m1"] * 150 + ["m2"] * 50)
    s = draw("stratified", f, 20, rng, strata=strata)
    assert s.drawn[:150].sum() == 15 and s.drawn[150:].sum() == 5
    assert draw("uniform", f, 20, rng).drawn.sum() == 20


def test_invalid_requests():
    with pytest.raises(SamplingError, match="unknown design"):
        inclusion_probabilities("moon", np.ones(3) / 2, 1)
    with pytest.raises(SamplingError, match="between 1 and N=3"):
        inclusion_probabilities("uniform", np.ones(3) / 2, 4)
    with pytest.raises(SamplingError, match="stratum"):
        inclusion_probabilities("stratified", np.ones(3) / 2, 2)
