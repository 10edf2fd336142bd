"""Agreement coefficients against published values and peer packages (krippendorff, sklearn, statsmodels)."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from tiebreak.core.metrics import EmptySelection, MetricsError
from tiebreak.core.metrics.agreement import (
    absolute_agreement,
    agreement_with_others,
    categories,
    cohen_kappa,
    dawid_skene_one_coin,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha_nominal,
    majority,
    majority_vote,
    raw_agreement,
)

NAN = np.nan
#: Krippendorff's worked example (as in the krippendorff package docs): 3 coders x 15 units.
KRIPP = np.array([
    [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
    [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
    [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
])  # fmt: skip


def random_ratings(seed: int, n: int = 60, raters: int = 4, missing: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.choice([1.0, 1.5, 2.0], size=n, p=[0.4, 0.2, 0.4])
    m = np.where(rng.random((n, raters)) < 0.7, truth[:, None], rng.choice([1.0, 1.5, 2.0], (n, raters)))
    return np.where(rng.random((n, raters)) < missing, NAN, m)


def test_krippendorff_published_example() -> None:
    assert krippendorff_alpha_nominal(KRIPP.T) == pytest.approx(0.691358, abs=5e-7)


@pytest.mark.parametrize("seed", range(5))
def test_krippendorff_matches_package(seed: int) -> None:
    m = random_ratings(seed, missing=0.25)
    want = krippendorff.alpha(reliability_data=m.T, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(m) == pytest.approx(want, abs=1e-12)


def test_artstein_poesio_table_1() -> None:
    # Coder A: 30 Stat / 70 IReq, coder B: 40 / 60, agreeing on 20 Stat and 50 IReq.
    a = [0] * 20 + [0] * 10 + [1] * 20 + [1] * 50
    b = [0] * 20 + [1] * 10 + [0] * 20 + [1] * 50
    assert raw_agreement(np.array(a) + 1, np.array(b) + 1) == pytest.approx(0.7)
    assert cohen_kappa(a, b) == pytest.approx(0.3478, abs=1e-4)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("seed", range(4))
def test_cohen_kappa_matches_sklearn(seed: int, weights: str | None) -> None:
    m = random_ratings(seed, raters=2)
    a, b = categories(m[:, 0]), categories(m[:, 1])
    want = cohen_kappa_score(a, b, labels=[0, 1, 2], weights=weights)
    assert cohen_kappa(a, b, weights=weights, labels=[0, 1, 2]) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_fleiss_kappa_matches_statsmodels(seed: int) -> None:
    m = random_ratings(seed, raters=5)
    table = np.stack([(m == v).sum(axis=1) for v in (1.0, 1.5, 2.0)], axis=1)
    assert fleiss_kappa(m) == pytest.approx(sm_fleiss_kappa(table, method="fleiss"), abs=1e-12)


def test_fleiss_needs_complete_data() -> None:
    m = random_ratings(0, missing=0.1)
    with pytest.raises(MetricsError, match=r"complete data required, \d+ labels missing"):
        fleiss_kappa(m)
    with pytest.raises(MetricsError, match="need at least 2 raters per unit, got 1"):
        fleiss_kappa(np.ones((3, 1)))


def test_gwet_ac1_is_robust_to_prevalence() -> None:
    # 94% raw agreement with one dominant class: kappa ~ -0.03 but AC1 ~ 0.94 (hand computation:
    # pi_A = .97, p_e = 2 * .97 * .03 = .0582, AC1 = (.94 - .0582) / .9418 = 0.93629).
    a = [1] * 94 + [1] * 3 + [2] * 3
    b = [1] * 94 + [2] * 3 + [1] * 3
    assert cohen_kappa(a, b) == pytest.approx(-0.0309, abs=1e-4)
    assert gwet_ac1(np.array([a, b]).T) == pytest.approx((0.94 - 0.0582) / 0.9418, abs=1e-12)


def test_gwet_ac1_two_raters_closed_form() -> None:
    m = random_ratings(3, raters=2)
    po = np.mean(m[:, 0] == m[:, 1])
    pi = np.array([np.mean(m == v) for v in (1.0, 1.5, 2.0)])
    pe = (pi * (1 - pi)).sum() / 2
    assert gwet_ac1(m, n_categories=3) == pytest.approx((po - pe) / (1 - pe), abs=1e-12)


def test_raw_agreement_with_and_without_ties() -> None:
    a = [1, 2, 1.5, 1.5, 2, 1.8, NAN]
    b = [1, 2, 1.5, 2, 1, 2, 1]
    assert raw_agreement(a, b) == pytest.approx(4 / 6)  # 1.8 counts as a vote for output_2
    assert raw_agreement(a, b, ties=False) == pytest.approx(3 / 4)
    with pytest.raises(EmptySelection, match="no pair without a tie"):
        raw_agreement([1.5], [2], ties=False)
    assert absolute_agreement([1, 2, 1.5], [1, 1, 2]) == pytest.approx(1 - (0 + 1 + 0.5) / 3)


def test_majority_tie_rule_and_fallbacks() -> None:
    assert majority([1, 1, 2, 2]) == 2.0
    assert majority([1, 1.5]) == 1.5
    assert majority([1, 1.5, 2]) == 1.0
    assert majority([2, 2, 1]) == 2.0
    assert majority([0, 0, 1]) == 1.5  # legacy draw
    assert majority([1.2, 1.9, NAN]) == pytest.approx(1.55)
    assert np.isnan(majority([NAN, None]))
    assert np.isnan(majority([]))
    out = majority_vote([[1, 2, NAN, NAN], [NAN] * 4, [1.5, 1.5, 1.5, 2]])
    assert out[0] == 2.0 and np.isnan(out[1]) and out[2] == 1.5


def test_agreement_with_others() -> None:
    m = np.array([[1, 1, 1, 2], [2, 2, 2, 2], [1, 2, 1.5, NAN]])
    got = agreement_with_others(m)
    # rater 0: unit0 others (1,1,2) -> 1; unit1 -> 2; unit2 others (2, 1.5) -> tie -> 2: |1-2| = 1
    assert got[0] == pytest.approx(1 - 1 / 3)
    assert got[3] == pytest.approx(1 - 1 / 2)


def test_dawid_skene_finds_the_good_workers() -> None:
    rng = np.random.default_rng(7)
    n, accs = 400, np.array([0.9, 0.85, 0.8, 0.45, 0.4])
    truth = rng.integers(0, 3, n).astype(float)
    right = rng.random((n, len(accs))) < accs
    noise = (truth[:, None] + rng.integers(1, 3, (n, len(accs)))) % 3
    m = np.where(right, truth[:, None], noise)
    m[rng.random(m.shape) < 0.1] = NAN
    labels, post, acc = dawid_skene_one_coin(m)
    assert post.shape == (n, 3) and np.allclose(post.sum(axis=1), 1)
    labelled = ~np.isnan(m)
    empirical = ((m == truth[:, None]) & labelled).sum(axis=0) / labelled.sum(axis=0)
    assert np.abs(acc - empirical).max() < 0.05
    mv = np.array([np.bincount(r[~np.isnan(r)].astype(int), minlength=3).argmax() for r in m])
    assert np.mean(labels == truth) >= np.mean(mv == truth)
    assert np.mean(labels == truth) > 0.9


def test_bad_input_is_named() -> None:
    with pytest.raises(EmptySelection, match="cohen_kappa: no pair has both labels present"):
        cohen_kappa([NAN, 1], [1, NAN])
    with pytest.raises(MetricsError, match="a has shape"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(MetricsError, match="weights must be"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")
    with pytest.raises(EmptySelection, match="every label is missing"):
        krippendorff_alpha_nominal([[NAN, NAN]])
    with pytest.raises(EmptySelection, match="no unit has two or more labels"):
        krippendorff_alpha_nominal([[1, NAN], [NAN, 2]])
    with pytest.raises(MetricsError, match="2-D units x raters"):
        gwet_ac1([1, 2, 3])
    with pytest.raises(EmptySelection, match="empty matrix"):
        fleiss_kappa(np.zeros((0, 3)))
    assert np.isnan(cohen_kappa([1, 1], [1, 1]))  # chance agreement 1: undefined
    assert np.isnan(krippendorff_alpha_nominal([[1, 1], [1, 1]]))
