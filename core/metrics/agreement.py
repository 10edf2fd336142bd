"""Agreement coefficients, majority vote and crowd aggregation for pairwise preference labels."""

from __future__ import annotations

import numpy as np

from tiebreak.core.metrics import EmptySelection, MetricsError
from tiebreak.core.metrics.consensus import TIE_RULE, majority, mode_of_counts

__all__ = [
    "TIE_RULE",
    "categories",
    "majority",
    "majority_vote",
    "absolute_agreement",
    "raw_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha_nominal",
    "gwet_ac1",
    "dawid_skene_one_coin",
    "agreement_with_others",
]

_DISCRETE = (1.0, 1.5, 2.0)
# None as a 0-d object array: what np.equal(arr, None) compares against, spelled so the numpy
# stubs (whose ArrayLike excludes a bare None) accept it.
_NONE = np.array(None, dtype=object)


def _matrix(ratings: object, name: str) -> np.ndarray:
    """Ratings as a 2-D float array (units x raters), NaN = missing; None -> NaN."""
    arr = np.asarray(ratings)
    if arr.dtype.kind not in "fiub":
        arr = np.asarray(ratings, dtype=object)
        arr = np.where(np.equal(arr, _NONE), np.nan, arr)
    if arr.ndim != 2:
        raise MetricsError(f"{name}: ratings must be a 2-D units x raters array, got {arr.ndim}-D")
    arr = arr.astype(float)
    if arr.size == 0:
        raise EmptySelection(f"{name}: no ratings (empty matrix)")
    return arr


def _pairs(a: object, b: object, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Two equally long label vectors with the pairs missing in either one removed."""
    x = np.asarray(a, dtype=object)
    y = np.asarray(b, dtype=object)
    if x.shape != y.shape or x.ndim != 1:
        raise MetricsError(f"{name}: a has shape {x.shape}, b has shape {y.shape}; need equal 1-D")
    x = np.where(np.equal(x, _NONE), np.nan, x).astype(float)
    y = np.where(np.equal(y, _NONE), np.nan, y).astype(float)
    keep = ~(np.isnan(x) | np.isnan(y))
    if not keep.any():
        raise EmptySelection(f"{name}: no pair has both labels present")
    return x[keep], y[keep]


def categories(preferences: object) -> np.ndarray:
    """Three-way category of preferences: 0 if p < 1.5 (output_1), 1 if p == 1.5 (tie), 2 if p > 1.5.

    Legacy 0 counts as a tie; NaN stays NaN. Fractional preferences go to the side they lean to.
    """
    p = np.asarray(preferences, dtype=float)
    p = np.where(p == 0, 1.5, p)
    out = np.where(p < 1.5, 0.0, np.where(p > 1.5, 2.0, 1.0))
    return np.where(np.isnan(p), np.nan, out)


def majority_vote(matrix: object) -> np.ndarray:
    """Row-wise AlpacaEval "Bayes estimator" of several labels of one comparison.

    Parameters
    ----------
    matrix : array-like, shape (n_units, n_labels)
        Preferences (NaN = missing; legacy 0 = tie).

    Returns
    -------
    numpy.ndarray
        Per row: when every present label is 1, 1.5 or 2, the mode; ties between modes follow
        :data:`TIE_RULE` (2 modes -> the larger, 3 modes -> 1.0, which is what AlpacaEval's
        ``_random_mode`` returns with its fixed ``random_state=123``: numpy's draw picks
        position 1 of 2 and position 0 of 3 sorted modes). Otherwise the median of the present
        labels (``absolute`` scoring rule). NaN when a row has no label.
    """
    return _majority(_matrix(matrix, "majority_vote"))


def _majority(m: np.ndarray) -> np.ndarray:
    """:func:`majority_vote` on a float matrix (no validation).

    The rule itself is :func:`tiebreak.core.metrics.consensus.majority` (the one implementation):
    rows whose labels are all 1, 1.5 or 2 are reduced to their counts here and the rule's
    :func:`~tiebreak.core.metrics.consensus.mode_of_counts` is applied once per distinct count
    triple; other rows go through ``majority`` one by one.
    """
    m = np.where(m == 0, 1.5, m)
    present = ~np.isnan(m)
    counts = np.stack([(m == v).sum(axis=1) for v in _DISCRETE], axis=1)
    discrete = (counts.sum(axis=1) == present.sum(axis=1)) & present.any(axis=1)
    out = np.full(len(m), np.nan)
    if discrete.any():
        triples, inverse = np.unique(counts[discrete], axis=0, return_inverse=True)
        modes = np.array([mode_of_counts(*map(int, t)) for t in triples])
        out[discrete] = modes[np.ravel(inverse)]
    for i in np.flatnonzero(~discrete & present.any(axis=1)):
        out[i] = majority(m[i][present[i]].tolist())
    return out


def absolute_agreement(prediction: object, target: object) -> float:
    """AlpacaEval's "absolute" score 1 - mean|target - prediction| over pairs with both present.

    Reference: alpaca_eval.metrics.helpers.AbsoluteScoringRule (a 1.5 against a 2 scores 0.5).
    """
    x, y = _pairs(prediction, target, "absolute_agreement")
    x, y = np.where(x == 0, 1.5, x), np.where(y == 0, 1.5, y)
    return float(1.0 - np.mean(np.abs(y - x)))


def raw_agreement(a: object, b: object, *, ties: bool = True) -> float:
    """Share of pairs whose three-way categories (see :func:`categories`) are equal.

    Parameters
    ----------
    a, b : array-like of preferences
        Paired labels; pairs with a missing label on either side are left out.
    ties : bool
        True: all pairs count (A, tie, B must match). False: only pairs where neither label
        is a tie count (agreement on the decided items).

    Returns
    -------
    float
        Fraction in [0, 1]. Raises :class:`EmptySelection` when no pair qualifies.
    """
    x, y = _pairs(categories(a), categories(b), "raw_agreement")
    if not ties:
        keep = (x != 1) & (y != 1)
        if not keep.any():
            raise EmptySelection("raw_agreement: no pair without a tie on either side")
        x, y = x[keep], y[keep]
    return float(np.mean(x == y))


def cohen_kappa(a: object, b: object, *, weights: str | None = None, labels: object = None) -> float:
    """Cohen's kappa between two raters: (p_o - p_e) / (1 - p_e) (Cohen 1960).

    Weighted (Cohen 1968): kappa_w = 1 - sum(w * O) / sum(w * E), with w_ij = |i - j| ("linear")
    or (i - j)^2 ("quadratic") over the ordered ``labels``; for preferences use
    ``labels=[0, 1, 2]`` on :func:`categories` (A < tie < B). Same as
    ``sklearn.metrics.cohen_kappa_score``. Pairs with a missing label are left out.

    Returns NaN when expected disagreement is 0 (both raters use one and the same label).
    """
    x, y = _pairs(a, b, "cohen_kappa")
    if weights not in (None, "linear", "quadratic"):
        raise MetricsError(f"cohen_kappa: weights must be None, 'linear' or 'quadratic', got {weights!r}")
    cats = np.unique(np.concatenate([x, y])) if labels is None else np.asarray(labels, dtype=float)
    ix, iy = np.searchsorted(cats, x), np.searchsorted(cats, y)
    if (ix >= len(cats)).any() or (iy >= len(cats)).any() or (cats[ix] != x).any() or (cats[iy] != y).any():
        raise MetricsError("cohen_kappa: a label is not in `labels`")
    k = len(cats)
    observed = np.zeros((k, k))
    np.add.at(observed, (ix, iy), 1.0)
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    idx = np.arange(k)
    if weights is None:
        w = (idx[:, None] != idx[None, :]).astype(float)
    elif weights == "linear":
        w = np.abs(idx[:, None] - idx[None, :]).astype(float)
    else:
        w = ((idx[:, None] - idx[None, :]) ** 2).astype(float)
    denom = float((w * expected).sum())
    return float(1.0 - (w * observed).sum() / denom) if denom > 0 else float("nan")


def _value_counts(m: np.ndarray) -> np.ndarray:
    """Units x categories counts of a units x raters label matrix (NaN ignored)."""
    values = np.unique(m[~np.isnan(m)])
    return np.stack([(m == v).sum(axis=1) for v in values], axis=1).astype(float)


def fleiss_kappa(ratings: object) -> float:
    """Fleiss' kappa (Fleiss 1971) for complete data: units x raters matrix of labels.

    P_i = (sum_j n_ij^2 - r) / (r (r - 1)); P_bar = mean P_i; p_j = share of category j;
    P_e = sum p_j^2; kappa = (P_bar - P_e) / (1 - P_e). Same as
    ``statsmodels.stats.inter_rater.fleiss_kappa`` on the counts table. NaN when P_e = 1.
    """
    m = _matrix(ratings, "fleiss_kappa")
    n_missing = int(np.isnan(m).sum())
    if n_missing:
        raise MetricsError(
            f"fleiss_kappa: complete data required, {n_missing} labels missing "
            "(use krippendorff_alpha_nominal)"
        )
    r = m.shape[1]
    if r < 2:
        raise MetricsError(f"fleiss_kappa: need at least 2 raters per unit, got {r}")
    counts = _value_counts(m)
    p_i = ((counts**2).sum(axis=1) - r) / (r * (r - 1))
    p_j = counts.sum(axis=0) / counts.sum()
    p_e = float((p_j**2).sum())
    return float((p_i.mean() - p_e) / (1 - p_e)) if p_e < 1 else float("nan")


def krippendorff_alpha_nominal(ratings: object) -> float:
    """Krippendorff's alpha, nominal level, any number of raters, missing labels allowed.

    ``ratings`` is units x raters (the transpose of ``krippendorff.alpha``'s reliability_data).
    From the coincidence matrix o_ck = sum_u sum_{i != j} [c_ui = c][c_uj = k] / (m_u - 1) over
    units with m_u >= 2 labels: alpha = 1 - D_o / D_e = 1 - (n - 1) sum_{c != k} o_ck /
    sum_{c != k} n_c n_k (Krippendorff 2011, "Computing Krippendorff's alpha-reliability").
    NaN when only one category occurs (D_e = 0).
    """
    m = _matrix(ratings, "krippendorff_alpha_nominal")
    if np.isnan(m).all():
        raise EmptySelection("krippendorff_alpha_nominal: every label is missing")
    counts = _value_counts(m)
    m_u = counts.sum(axis=1)
    counts, m_u = counts[m_u >= 2], m_u[m_u >= 2]
    if len(m_u) == 0:
        raise EmptySelection("krippendorff_alpha_nominal: no unit has two or more labels")
    disagree = float(((m_u**2 - (counts**2).sum(axis=1)) / (m_u - 1)).sum())
    n_c = counts.sum(axis=0)
    n = n_c.sum()
    expected = float(n**2 - (n_c**2).sum())
    return float(1.0 - (n - 1) * disagree / expected) if expected > 0 else float("nan")


def gwet_ac1(ratings: object, n_categories: int | None = None) -> float:
    """Gwet's AC1 (Gwet 2008) for any number of raters, missing labels allowed.

    p_a = mean over units with r_u >= 2 of sum_k r_uk (r_uk - 1) / (r_u (r_u - 1));
    pi_k = mean over units with r_u >= 1 of r_uk / r_u; p_e = sum_k pi_k (1 - pi_k) / (q - 1);
    AC1 = (p_a - p_e) / (1 - p_e). ``n_categories`` is q (default: categories observed; use 3
    for preferences). Stays high when one class dominates, unlike kappa.
    """
    m = _matrix(ratings, "gwet_ac1")
    if np.isnan(m).all():
        raise EmptySelection("gwet_ac1: every label is missing")
    counts = _value_counts(m)
    q = n_categories or counts.shape[1]
    if q < 2 or q < counts.shape[1]:
        raise MetricsError(f"gwet_ac1: n_categories={q} but {counts.shape[1]} categories observed")
    r_u = counts.sum(axis=1)
    two = r_u >= 2
    if not two.any():
        raise EmptySelection("gwet_ac1: no unit has two or more labels")
    p_a = float(((counts[two] * (counts[two] - 1)).sum(axis=1) / (r_u[two] * (r_u[two] - 1))).mean())
    pi = (counts[r_u >= 1] / r_u[r_u >= 1, None]).mean(axis=0)
    p_e = float((pi * (1 - pi)).sum() / (q - 1))
    return (p_a - p_e) / (1 - p_e)


def dawid_skene_one_coin(
    ratings: object, *, max_iter: int = 100, tol: float = 1e-8
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-coin Dawid-Skene EM: each worker w is right with probability a_w, else uniform.

    E-step: log P(z_u = k) = log pi_k + sum_w [l_uw = k] log a_w + [l_uw != k] log((1 - a_w) / (K - 1));
    M-step: a_w = mean over w's labels of P(z_u = l_uw), pi_k = mean_u P(z_u = k). Initialised
    from soft majority vote (Dawid & Skene 1979; one-coin variant as in crowd-kit's OneCoinDawidSkene).

    Parameters
    ----------
    ratings : array-like, shape (n_units, n_workers)
        Category labels (any numbers), NaN = worker did not label the unit.

    Returns
    -------
    labels : numpy.ndarray
        Most probable category per unit (NaN for units without labels).
    posterior : numpy.ndarray, shape (n_units, K)
        Class probabilities per unit, columns in sorted category order.
    accuracy : numpy.ndarray, shape (n_workers,)
        Estimated accuracy per worker (NaN for workers without labels).
    """
    m = _matrix(ratings, "dawid_skene_one_coin")
    if np.isnan(m).all():
        raise EmptySelection("dawid_skene_one_coin: every label is missing")
    values = np.unique(m[~np.isnan(m)])
    k = len(values)
    onehot = np.stack([m == v for v in values], axis=2).astype(float)  # units x workers x K
    labelled = ~np.isnan(m)
    post = onehot.sum(axis=1) + 1e-9
    post /= post.sum(axis=1, keepdims=True)
    acc = np.full(m.shape[1], np.nan)
    for _ in range(max_iter):
        n_w = labelled.sum(axis=0)
        hits = np.einsum("uwk,uk->w", onehot, post)
        acc = np.clip(np.where(n_w > 0, hits / np.maximum(n_w, 1), np.nan), 1e-6, 1 - 1e-6)
        prior = post.mean(axis=0)
        right = np.log(acc) if k > 1 else np.zeros_like(acc)
        wrong = np.log((1 - acc) / max(k - 1, 1))
        logp = np.log(prior + 1e-300) + np.einsum("uwk,w->uk", onehot, np.nan_to_num(right - wrong))
        logp += (labelled * np.nan_to_num(wrong)).sum(axis=1, keepdims=True)
        new = np.exp(logp - logp.max(axis=1, keepdims=True))
        new /= new.sum(axis=1, keepdims=True)
        done = np.abs(new - post).max() < tol
        post = new
        if done:
            break
    labels = np.where(labelled.any(axis=1), values[np.argmax(post, axis=1)], np.nan)
    return labels, post, np.where(labelled.any(axis=0), acc, np.nan)


def agreement_with_others(ratings: object) -> np.ndarray:
    """Per rater: AlpacaEval agreement (1 - |x - majority|) with the majority of the other raters.

    ``ratings`` is units x raters of preferences (NaN = missing). For rater w, over the units
    where w labelled and at least one other rater did, the mean of 1 - |x_uw - maj_u(others)|
    with :func:`majority_vote`. NaN for a rater with no such unit.
    """
    m = _matrix(ratings, "agreement_with_others")
    out = np.full(m.shape[1], np.nan)
    for w in range(m.shape[1]):
        others = _majority(np.delete(m, w, axis=1)) if m.shape[1] > 1 else np.full(len(m), np.nan)
        keep = ~np.isnan(m[:, w]) & ~np.isnan(others)
        if keep.any():
            out[w] = 1.0 - np.mean(np.abs(np.where(m[keep, w] == 0, 1.5, m[keep, w]) - others[keep]))
    return out
