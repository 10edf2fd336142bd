"""Gwet's AC1 against irrCAC and one-coin Dawid-Skene against crowd-kit, on simulated crowds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import OneCoinDawidSkene
from irrCAC.raw import CAC

from tiebreak.core.metrics.agreement import dawid_skene_one_coin, gwet_ac1

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside crowd-kit, on pandas 3


def crowd(seed: int, n: int = 300, accs=(0.9, 0.85, 0.8, 0.45, 0.4), missing: float = 0.2) -> np.ndarray:
    """Units x workers of labels 0/1/2: each worker right with its accuracy, else another class; some missing."""
    rng = np.random.default_rng(seed)
    accs = np.asarray(accs)
    truth = rng.integers(0, 3, n).astype(float)
    right = rng.random((n, len(accs))) < accs
    noise = (truth[:, None] + rng.integers(1, 3, (n, len(accs)))) % 3
    m = np.where(right, truth[:, None], noise)
    m[rng.random(m.shape) < missing] = np.nan
    return m


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gwet_ac1_equals_irrcac(seed: int) -> None:
    m = crowd(seed)
    oracle = CAC(pd.DataFrame(m), categories=[0.0, 1.0, 2.0], digits=15).gwet()["est"]["coefficient_value"]
    assert gwet_ac1(m, n_categories=3) == pytest.approx(oracle, abs=1e-12)


def test_gwet_ac1_on_preferences_equals_irrcac() -> None:
    rng = np.random.default_rng(5)
    m = rng.choice([1.0, 1.5, 2.0], size=(120, 4), p=[0.45, 0.1, 0.45])
    m[rng.random(m.shape) < 0.3] = np.nan
    oracle = CAC(pd.DataFrame(m), categories=[1.0, 1.5, 2.0], digits=15).gwet()["est"]["coefficient_value"]
    assert gwet_ac1(m, n_categories=3) == pytest.approx(oracle, abs=1e-12)


@pytest.mark.parametrize("seed", [1, 3])  # crowds on which crowd-kit's EM converges within 100 steps
def test_one_coin_dawid_skene_equals_crowd_kit(seed: int) -> None:
    m = crowd(seed)
    _, posterior, accuracy = dawid_skene_one_coin(m)
    rows = [(u, w, int(m[u, w])) for u, w in zip(*np.nonzero(~np.isnan(m)), strict=True)]
    oracle = OneCoinDawidSkene(n_iter=100, tol=1e-12).fit(pd.DataFrame(rows, columns=["task", "worker", "label"]))
    assert len(oracle.loss_history_) < 100  # converged, so both sit on the same fixed point
    np.testing.assert_allclose(accuracy, oracle.skills_.sort_index().to_numpy(), atol=1e-6)
    np.testing.assert_allclose(posterior, oracle.probas_.sort_index()[[0, 1, 2]].to_numpy(), atol=1e-6)
