"""Paired comparisons of models on shared instructions, Holm correction, the all-pairs matrix."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from tiebreak.core.metrics import EmptySelection, MetricsError
from tiebreak.core.metrics.paired import holm, paired_compare, paired_matrix, per_instruction_scores


def make_frame(rng: np.random.Generator, n: int = 60) -> pd.DataFrame:
    rows = []
    for model, strength in (("a", 0.7), ("b", 0.5), ("c", 0.48), ("d", 0.3)):
        for i in range(n):
            p = rng.choice([1.0, 1.5, 2.0], p=[1 - strength - 0.1, 0.1, strength])
            rows.append({"instruction_id": i, "generator_2": model, "preference": p})
    return pd.DataFrame(rows)


def test_paired_t_equals_scipy_on_s():
    frame = make_frame(np.random.default_rng(0))
    scores = per_instruction_scores(frame)
    res = paired_compare(scores, "a", "b")
    sa = frame[frame.generator_2 == "a"].preference.to_numpy() - 1
    sb = frame[frame.generator_2 == "b"].preference.to_numpy() - 1
    ref = stats.ttest_rel(sa, sb)
    assert res["t"] == pytest.approx(ref.statistic) and res["p_value"] == pytest.approx(ref.pvalue)
    assert res["diff"] == pytest.approx((sa - sb).mean())
    assert res["ci_low"] < res["diff"] < res["ci_high"] and res["n"] == 60


def test_seeds_are_averaged_per_instruction_and_unpaired_counted():
    frame = pd.DataFrame({
        "instruction_id": [1, 1, 2, 3, 1, 2, 4],
        "generator_2": ["a", "a", "a", "a", "b", "b", "b"],
        "preference": [2.0, 1.0, 2.0, None, 1.0, 0.0, 2.0],
    })  # fmt: skip
    scores = per_instruction_scores(frame)
    assert scores.loc[1, "a"] == 0.5 and scores.loc[2, "b"] == 0.5
    res = paired_compare(scores, "a", "b")
    assert res["n"] == 2 and res["n_unpaired"] == 1  # instruction 3 has only a null, 4 only b
    assert "1 unpaired instruction(s) dropped" in res["note"]


def test_holm_matches_statsmodels_and_skips_nan():
    p = np.array([0.01, 0.04, 0.03, 0.20, np.nan, 0.001])
    ours = holm(p)
    ref = multipletests(p[~np.isnan(p)], method="holm")[1]
    assert np.allclose(ours[~np.isnan(p)], ref) and math.isnan(ours[4])
    assert np.isnan(holm([np.nan])).all()


def test_matrix_has_every_pair_with_holm():
    scores = per_instruction_scores(make_frame(np.random.default_rng(1)))
    table = paired_matrix(scores)
    assert len(table) == 6
    assert np.allclose(table["p_holm"], multipletests(table["p_value"], method="holm")[1])
    assert (table["p_holm"] >= table["p_value"]).all()


def test_degenerate_inputs_are_defined():
    frame = pd.DataFrame({"instruction_id": [1, 2, 1, 2], "generator_2": ["a", "a", "b", "b"],
                          "preference": [2.0, 1.0, 2.0, 1.0]})  # fmt: skip
    scores = per_instruction_scores(frame)
    same = paired_compare(scores, "a", "b")
    assert same["diff"] == 0 and math.isnan(same["p_value"]) and "no variation" in same["note"]
    one = paired_compare(scores.iloc[:1], "a", "b")
    assert math.isnan(one["t"]) and "fewer than 2" in one["note"]
    with pytest.raises(MetricsError, match="'zzz'"):
        paired_compare(scores, "a", "zzz")
    with pytest.raises(EmptySelection):
        paired_matrix(scores[["a"]])
