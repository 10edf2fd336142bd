"""The fitted LC GLM by Newton's method: the exact optimum (zero gradient), never worse than L-BFGS-B."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from tiebreak.core.metrics import MetricsError
from tiebreak.core.metrics import sql as q
from tiebreak.core.metrics.lc import length_features
from tiebreak.core.metrics.lc_fit import (
    COEF_RIDGE,
    DIFFICULTY_RIDGE,
    LENGTH_RIDGE,
    fit_glm,
    length_feature,
)
from tiebreak.core.store import Store

JUDGE = "weighted_alpaca_eval_gpt4_turbo"


def objective_and_gradient(w, models, feature, instr, x, n_models):
    """The penalised soft-label logistic loss written out here (independently of lc_fit) and its gradient."""
    n_i = 0 if instr is None else int(instr.max()) + 1
    theta, gamma, d = w[:n_models], w[n_models], w[n_models + 1 :]
    eta = theta[models] + gamma * feature + (d[instr] if n_i else 0.0)
    loss = np.sum(np.logaddexp(0.0, eta) - x * eta)
    loss += 0.5 * (DIFFICULTY_RIDGE * d @ d + COEF_RIDGE * theta @ theta + LENGTH_RIDGE * gamma**2)
    r = expit(eta) - x
    grad = [np.bincount(models, r, n_models) + COEF_RIDGE * theta, [r @ feature + LENGTH_RIDGE * gamma]]
    if n_i:
        grad.append(np.bincount(instr, r, n_i) + DIFFICULTY_RIDGE * d)
    return float(loss), np.concatenate(grad)


@pytest.fixture(scope="module")
def panel(metrics_sample_db) -> tuple:
    """The labelled rows of the AlpacaEval sample's weighted judge panel: 6 models x 805 instructions."""
    store = Store(metrics_sample_db)
    try:
        frame = q.lean_frame(store, groups=[JUDGE])
    finally:
        store.close()
    frame = frame[frame["generator_2"] != frame["generator_1"]].reset_index(drop=True)
    feature = length_features(frame)
    x = frame["preference"].to_numpy(float) - 1
    keep = (x >= 0) & (x <= 1)
    models, names = pd.factorize(frame["generator_2"])
    instr, _ = pd.factorize(frame["instruction_id"])
    return models[keep], feature[keep], instr[keep], x[keep], len(names)


@pytest.mark.parametrize("difficulty", [True, False], ids=["joint difficulty", "no difficulty"])
def test_newton_reaches_the_optimum_and_beats_lbfgs_on_alpaca_eval_data(panel, difficulty):
    models, feature, instr, x, n = panel
    instr = instr if difficulty else None
    theta, gamma, d, _ = fit_glm(models, feature, instr, x, n)
    w = np.concatenate([theta, [gamma], d])
    loss, grad = objective_and_gradient(w, models, feature, instr, x, n)
    assert np.max(np.abs(grad)) < 1e-8
    old = minimize(objective_and_gradient, np.zeros_like(w), args=(models, feature, instr, x, n), jac=True,
                   method="L-BFGS-B")  # fmt: skip  # the fit Tiebreak used before
    assert loss <= old.fun + 1e-9 * abs(old.fun)
    assert np.max(np.abs(old.jac)) > np.max(np.abs(grad))  # L-BFGS-B stopped short of the optimum
    assert len(d) == (int(instr.max()) + 1 if difficulty else 0)


def test_more_models_than_instructions_eliminates_the_strengths_instead():
    """The other Schur orientation (models > instructions) lands on the same zero-gradient optimum."""
    rng = np.random.default_rng(3)
    n_models, n_instr, rows = 40, 7, 900
    models, instr = rng.integers(0, n_models, rows), rng.integers(0, n_instr, rows)
    feature = np.tanh(rng.normal(size=rows))
    x = np.clip(expit(rng.normal(size=n_models)[models] + 0.8 * feature + rng.normal(size=rows)), 0, 1)
    x[::5] = np.round(x[::5])  # hard labels among the soft ones
    theta, gamma, d, _ = fit_glm(models, feature, instr, x, n_models)
    w = np.concatenate([theta, [gamma], d])
    _, grad = objective_and_gradient(w, models, feature, instr, x, n_models)
    assert np.max(np.abs(grad)) < 1e-9 and len(d) == n_instr


def test_separable_hard_labels_stay_finite():
    """A model that wins every row: the tiny ridge on strengths keeps theta finite (and the fit converges)."""
    models = np.repeat([0, 1], 50)
    instr = np.tile(np.arange(50), 2)
    x = np.r_[np.ones(50), np.zeros(50)]
    theta, _, _, var = fit_glm(models, np.zeros(100), instr, x, 2)
    assert np.all(np.isfinite(theta)) and theta[0] > 5 > -5 > theta[1]
    assert np.all(var > 0)


def test_theta_variance_is_the_inverse_hessian_diagonal(panel):
    models, feature, _, x, n = panel
    theta, gamma, _, var = fit_glm(models, feature, None, x, n)
    p = expit(theta[models] + gamma * feature)
    wq = p * (1 - p)
    hess = np.zeros((n + 1, n + 1))
    hess[np.arange(n), np.arange(n)] = np.bincount(models, wq, n) + COEF_RIDGE
    hess[:n, n] = hess[n, :n] = np.bincount(models, wq * feature, n)
    hess[n, n] = wq @ feature**2 + LENGTH_RIDGE
    np.testing.assert_allclose(var, np.diag(np.linalg.inv(hess))[:n], rtol=1e-10)


def test_non_finite_labels_fail_with_a_metrics_error():
    with pytest.raises(MetricsError, match="LC fit failed"):
        fit_glm(np.array([0, 1]), np.zeros(2), None, np.array([np.nan, 1.0]), 2)


def test_length_feature_standardises_within_each_group():
    delta = np.array([10.0, 20.0, 30.0, 5.0, 5.0, 7.0])
    groups = np.array([0, 0, 0, 1, 1, 2])
    z = length_feature(delta, groups)
    np.testing.assert_allclose(z[:3], np.tanh(delta[:3] / 10.0))  # std(10, 20, 30, ddof=1) = 10
    assert list(z[3:]) == [0.0, 0.0, 0.0]  # equal differences, and a single row: no length signal
