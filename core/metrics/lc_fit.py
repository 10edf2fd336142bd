"""The fitted LC GLM, numpy only: the penalised soft-label logistic fit (Newton) and one panel's LC rows.

Every fitted length-controlled win rate (the pandas leaderboard, the pandas-free cold path of
``tiebreak leaderboard``, the app's boards) goes through :func:`fit_glm` and :func:`panel_rows`.
The objective is strictly convex (ridge priors on every coefficient), so Newton's method with a
backtracking line search converges to its unique optimum; each step solves the Hessian with the
larger diagonal block (instruction difficulties, or model strengths when there are more models)
eliminated by its Schur complement, a dense solve of (smaller block + 1) unknowns.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import numpy as np

from tiebreak.core.metrics import MetricsError

__all__ = [
    "DIFFICULTY_RIDGE", "LENGTH_RIDGE", "COEF_RIDGE", "GRADIENT_TOL", "expit", "objective", "fit_glm",
    "lc_from_coefficients", "length_feature", "panel_rows",
]  # fmt: skip

#: Ridge penalties (Gaussian priors): per-instruction difficulty N(0, 1); the shared length
#: coefficient N(0, 1) (it stops a lone model's fit from extrapolating wildly to equal lengths);
#: a tiny one on the model strengths (keeps separable hard labels finite).
DIFFICULTY_RIDGE = 1.0
LENGTH_RIDGE = 1.0
COEF_RIDGE = 1e-4
#: The fit stops when no gradient component exceeds this.
GRADIENT_TOL = 1e-9
_MAX_STEPS = 200
_ARMIJO = 1e-4
#: Below this Newton decrement the quadratic model is exact to rounding: full steps, no line search.
_QUADRATIC_PHASE = 1e-4


def expit(eta: np.ndarray | float) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-eta)) (exactly 0 below eta = -709, no overflow warning)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(eta, dtype=float)))


class _Design:
    """One panel's labelled rows: model and instruction codes, the length feature, soft labels."""

    def __init__(self, models: np.ndarray, feature: np.ndarray, instr: np.ndarray | None, x: np.ndarray,
                 n_models: int) -> None:  # fmt: skip
        self.models, self.feature, self.x, self.n_models = models, feature, x, n_models
        self.instr = instr if instr is not None and len(instr) else None
        self.n_i = 0 if self.instr is None else int(self.instr.max()) + 1
        self.pairs = self.models * self.n_i + (self.instr if self.instr is not None else 0)  # (model, instruction) cell

    def split(self, w: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """(theta, gamma, d) views of the parameter vector."""
        m = self.n_models
        return w[:m], float(w[m]), w[m + 1 :]

    def eta(self, w: np.ndarray) -> np.ndarray:
        theta, gamma, d = self.split(w)
        eta = theta[self.models] + gamma * self.feature
        return eta + d[self.instr] if self.instr is not None else eta

    def loss(self, w: np.ndarray, eta: np.ndarray | None = None) -> float:
        """The penalised negative log-likelihood (``eta``: :meth:`eta` of ``w`` when already known)."""
        theta, gamma, d = self.split(w)
        eta = self.eta(w) if eta is None else eta
        nll = float(np.sum(np.logaddexp(0.0, eta) - self.x * eta))
        return nll + 0.5 * (DIFFICULTY_RIDGE * d @ d + COEF_RIDGE * theta @ theta + LENGTH_RIDGE * gamma**2)

    def gradient(self, w: np.ndarray, r: np.ndarray) -> np.ndarray:
        """d(loss)/dw from the residuals r = expit(eta) - x."""
        theta, gamma, d = self.split(w)
        parts = [np.bincount(self.models, r, self.n_models) + COEF_RIDGE * theta,
                 np.array([r @ self.feature + LENGTH_RIDGE * gamma])]  # fmt: skip
        if self.instr is not None:
            parts.append(np.bincount(self.instr, r, self.n_i) + DIFFICULTY_RIDGE * d)
        return np.concatenate(parts)

    def newton_step(self, g: np.ndarray, wq: np.ndarray) -> np.ndarray:
        """Solve H step = -g, H the Hessian with row weights wq = p (1 - p)."""
        m, n_i, f = self.n_models, self.n_i, self.feature
        h_theta = np.bincount(self.models, wq, m) + COEF_RIDGE
        b_theta = np.bincount(self.models, wq * f, m)
        h_gamma = float(wq @ (f * f)) + LENGTH_RIDGE
        if self.instr is None:
            return _bordered_solve(h_theta, b_theta, h_gamma, -g)
        h_d = np.bincount(self.instr, wq, n_i) + DIFFICULTY_RIDGE
        b_d = np.bincount(self.instr, wq * f, n_i)
        cross = np.bincount(self.pairs, wq, m * n_i).reshape(m, n_i)
        if m <= n_i:  # keep (theta, gamma) dense, eliminate the difficulties
            return _schur_solve(h_theta, b_theta, h_gamma, h_d, b_d, cross, g[: m + 1], g[m + 1 :], order=(0, 1))
        step = _schur_solve(h_d, b_d, h_gamma, h_theta, b_theta, cross.T,
                            np.concatenate([g[m + 1 :], g[m : m + 1]]), g[:m], order=(1, 0))  # fmt: skip
        return step


def _bordered_solve(h: np.ndarray, b: np.ndarray, c: float, rhs: np.ndarray) -> np.ndarray:
    """Solve [[diag(h), b], [b', c]] s = rhs in O(n)."""
    s_gamma = (rhs[-1] - b @ (rhs[:-1] / h)) / (c - b @ (b / h))
    return np.concatenate([(rhs[:-1] - b * s_gamma) / h, [s_gamma]])


def _schur_solve(h_a: np.ndarray, b_a: np.ndarray, h_gamma: float, h_e: np.ndarray, b_e: np.ndarray,
                 cross: np.ndarray, g_dense: np.ndarray, g_elim: np.ndarray,
                 order: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """Newton step with the diagonal block ``h_e`` eliminated; ``g_dense`` is (kept block, gamma).

    Returns the step in the fit's parameter order (theta, gamma, d): ``order`` (0, 1) when the
    kept block is theta, (1, 0) when it is d.
    """
    n = len(h_a)
    coupling = np.vstack([cross, b_e])  # (kept block + gamma) x eliminated block
    dense = np.zeros((n + 1, n + 1))
    dense[np.arange(n), np.arange(n)] = h_a
    dense[:n, n] = dense[n, :n] = b_a
    dense[n, n] = h_gamma
    root = coupling / np.sqrt(h_e)
    schur = dense - root @ root.T  # X X' (BLAS syrk): the coupling scaled by the eliminated block's inverse
    step_dense = np.linalg.solve(schur, -(g_dense - coupling @ (g_elim / h_e)))
    step_elim = -(g_elim + coupling.T @ step_dense) / h_e
    if order == (0, 1):
        return np.concatenate([step_dense, step_elim])
    return np.concatenate([step_elim, step_dense[n:], step_dense[:n]])


def objective(models: np.ndarray, feature: np.ndarray, instr: np.ndarray | None, x: np.ndarray,
              n_models: int, w: np.ndarray) -> float:  # fmt: skip
    """The penalised loss :func:`fit_glm` minimises, at parameters ``w`` = (theta, gamma, d)."""
    return _Design(models, feature, instr, x, n_models).loss(np.asarray(w, dtype=float))


def fit_glm(
    models: np.ndarray, feature: np.ndarray, instr: np.ndarray | None, x: np.ndarray, n_models: int
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Joint soft-label logistic GLM eta = theta_m + gamma tanh(z) [+ d_i], no intercept (Newton).

    The length coefficient gamma is shared by the models of a panel (length bias belongs to the
    annotator, not to the model); ridge priors as in the module constants. Converges to the
    optimum: no gradient component above :data:`GRADIENT_TOL`.

    Parameters
    ----------
    models : numpy.ndarray of int
        Model code (0..n_models-1) of each labelled row.
    feature : numpy.ndarray
        tanh(z) per row.
    instr : numpy.ndarray of int or None
        Instruction codes; None fits without difficulty.
    x : numpy.ndarray
        Soft labels in [0, 1].
    n_models : int
        Number of models.

    Returns
    -------
    theta, gamma, difficulty, theta_var
        Per-model strength, shared length coefficient, difficulty per instruction code (empty
        without), and the approximate variance of each theta (inverse Hessian, difficulty fixed).

    Raises
    ------
    MetricsError
        When the fit does not converge (non-finite data).
    """
    with _one_blas_thread():
        return _fit(models, feature, instr, x, n_models)


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread: the solves are small, and on a busy machine OpenBLAS's threads
    spin-wait for cores (a 212 x 212 solve took 80 ms instead of 1 ms with the two cores shared)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _fit(
    models: np.ndarray, feature: np.ndarray, instr: np.ndarray | None, x: np.ndarray, n_models: int
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """:func:`fit_glm`'s Newton iterations."""
    design = _Design(np.asarray(models, dtype=np.int64), np.asarray(feature, dtype=float),
                     None if instr is None else np.asarray(instr, dtype=np.int64), np.asarray(x, dtype=float),
                     n_models)  # fmt: skip
    w = np.zeros(n_models + 1 + design.n_i)
    w[:n_models] = _start(design)
    eta, loss, converged = design.eta(w), None, False
    for _ in range(_MAX_STEPS):
        p = expit(eta)
        g = design.gradient(w, p - design.x)
        if not np.all(np.isfinite(g)):
            break
        if float(np.max(np.abs(g))) <= GRADIENT_TOL:
            converged = True
            break
        step = design.newton_step(g, p * (1 - p))
        w, eta, loss = _line_search(design, w, step, -float(g @ step), loss)
    if not converged or not np.all(np.isfinite(w)):
        raise MetricsError(f"LC fit failed: Newton did not converge ({_MAX_STEPS} steps, {len(design.x)} rows)")
    theta, gamma, d = design.split(w)
    wq = expit(design.eta(w))
    wq = wq * (1 - wq)
    return theta.copy(), gamma, d.copy(), _theta_variance(design, wq)


def _start(design: _Design) -> np.ndarray:
    """Starting strengths: the logit of each model's mean label (shrunk off 0 and 1), saving a step or two."""
    n = np.bincount(design.models, minlength=design.n_models)
    mean = (np.bincount(design.models, design.x, design.n_models) + 0.5) / (n + 1.0)
    return np.log(mean / (1 - mean))


def _line_search(design: _Design, w: np.ndarray, step: np.ndarray, decrement: float,
                 loss: float | None) -> tuple[np.ndarray, np.ndarray, float | None]:  # fmt: skip
    """Backtracking (Armijo) along the Newton step: (new w, its eta, its loss or None when not computed).

    Once the Newton decrement is negligible the quadratic model is exact to rounding (the loss
    could no longer tell the steps apart): the full step is taken without evaluating the loss.
    """
    if decrement <= _QUADRATIC_PHASE:
        w = w + step
        return w, design.eta(w), None
    base = design.loss(w) if loss is None else loss
    t = 1.0
    while True:
        trial = w + t * step
        eta = design.eta(trial)
        value = design.loss(trial, eta)
        if value <= base - _ARMIJO * t * decrement or t < 1e-12:
            return trial, eta, value
        t *= 0.5


def _theta_variance(design: _Design, wq: np.ndarray) -> np.ndarray:
    """diag of the inverse (theta, gamma) Hessian block (difficulty fixed), O(models)."""
    m, f = design.n_models, design.feature
    h = np.bincount(design.models, wq, m) + COEF_RIDGE
    b = np.bincount(design.models, wq * f, m)
    s = float(wq @ (f * f)) + LENGTH_RIDGE - float(b @ (b / h))
    return 1.0 / h + (b / h) ** 2 / s


def lc_from_coefficients(
    strength: float, difficulty_coef: float, difficulty: np.ndarray
) -> tuple[float, float]:
    """LC and its AlpacaEval standard error from model-minus-baseline coefficients (fractions).

    Parameters
    ----------
    strength, difficulty_coef : float
        theta_model and theta_difficulty (already minus the baseline's).
    difficulty : numpy.ndarray
        d_r for each row the model is evaluated on.

    Returns
    -------
    (lc, se) : tuple of float
        mean_r sigmoid(theta_model + theta_difficulty d_r) and std(ddof=1)/sqrt(n); se NaN if n < 2.
    """
    q = expit(strength + difficulty_coef * np.asarray(difficulty, dtype=float))
    if q.size == 0:
        return float("nan"), float("nan")
    se = float(q.std(ddof=1) / np.sqrt(q.size)) if q.size > 1 else float("nan")
    return float(q.mean()), se


def length_feature(delta: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """tanh of ``delta`` standardised (std, ddof=1) within each group code; 0 where the std is 0 or undefined.

    Parameters
    ----------
    delta : numpy.ndarray
        Length difference per row (reference minus model).
    groups : numpy.ndarray of int
        Group code per row, 0..n-1 (a model against one reference, for one annotator group).
    """
    delta = np.asarray(delta, dtype=float)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    count = np.bincount(groups, minlength=n_groups).astype(float)
    mean = np.bincount(groups, delta, n_groups) / np.maximum(count, 1)
    dev = delta - mean[groups]
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(np.bincount(groups, dev * dev, n_groups) / (count - 1))[groups]
    ok = np.nan_to_num(std, posinf=0.0) > 0  # one row, or equal differences: no length signal
    z = np.divide(delta, std, out=np.zeros_like(delta), where=ok)
    return np.tanh(z)


def panel_rows(
    models: np.ndarray,
    names: list[str],
    reference: str,
    instr: np.ndarray,
    feature: np.ndarray,
    preference: np.ndarray,
    min_models: int,
    override: Callable[[int, np.ndarray], tuple | None] | None = None,
) -> list[tuple]:
    """The fitted LC of every model of one (annotator group, reference) panel.

    Parameters
    ----------
    models : numpy.ndarray of int
        Model code per row (index into ``names``), every row of the panel (null labels included).
    names : list of str
        The panel's generators (``reference`` among them when it is compared with itself).
    reference : str
        The panel's reference generator.
    instr : numpy.ndarray of int
        Instruction code per row, 0..n-1.
    feature : numpy.ndarray
        tanh(z) per row (:func:`length_feature`).
    preference : numpy.ndarray
        Preference per row (NaN for null; legacy 0 counts as a tie).
    min_models : int
        Fewer candidates: fitted without difficulty (noted).
    override : callable, optional
        ``override(j, labelled)`` -> an LC row for model ``j`` from elsewhere (published weights), or None.

    Returns
    -------
    list of tuple
        (lc, lc_standard_error, lc_method, lc_note) per model code.
    """
    n = len(names)
    ref = names.index(reference) if reference in names else -1
    n_candidates = n - (ref >= 0)
    use_difficulty = n_candidates >= min_models
    x_all = np.where(preference == 0, 1.5, preference) - 1
    labelled = (x_all >= 0) & (x_all <= 1) & (models != ref)
    n_instr = int(instr.max()) + 1 if len(instr) else 0
    difficulty, theta, theta_var = np.zeros(n_instr), np.zeros(n), np.zeros(n)
    if labelled.any():
        theta, _, d, theta_var = fit_glm(models[labelled], feature[labelled],
                                         instr[labelled] if use_difficulty else None, x_all[labelled], n)  # fmt: skip
        difficulty[: len(d)] = d
    n_rows = np.bincount(models, minlength=n)
    n_labelled = np.bincount(models, labelled, n)
    q = expit(theta[models] + difficulty[instr])
    q_mean = np.bincount(models, q, n) / np.maximum(n_rows, 1)
    dev = q - q_mean[models]
    with np.errstate(invalid="ignore", divide="ignore"):
        q_se = np.sqrt(np.bincount(models, dev * dev, n) / (n_rows - 1)) / np.sqrt(n_rows)
    out: list[tuple] = []
    for j in range(n):
        pub = None if j == ref or override is None else override(j, labelled)
        if j == ref:
            out.append((0.5, 0.0, "reference", "reference against itself: 50 by definition"))
        elif pub is not None:
            out.append(pub)
        elif not n_labelled[j]:
            out.append((math.nan, math.nan, "none", "no parsed labels: LC undefined"))
        elif use_difficulty:
            se = float(q_se[j]) if n_rows[j] > 1 else math.nan
            out.append((float(q_mean[j]), se, "fit", f"fitted; difficulty estimated jointly over {n_candidates} models"))
        else:
            p = float(expit(theta[j]))
            note = (f"fitted WITHOUT instruction difficulty: only {n_candidates} model(s) share "
                    f"this reference (< {min_models}); lc_standard_error by the delta method")  # fmt: skip
            out.append((p, p * (1 - p) * math.sqrt(theta_var[j]), "fit_no_difficulty", note))
    return out
