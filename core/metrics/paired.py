"""Paired comparison of models on the same instructions (paired t) with Holm correction."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from tiebreak.core.metrics import EmptySelection, MetricsError

__all__ = ["per_instruction_scores", "paired_compare", "holm", "paired_matrix"]


def per_instruction_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean s = preference - 1 per (instruction, model), after AlpacaEval's cleaning.

    Several labels of one model on one instruction (judge seeds, several humans) are averaged,
    so each instruction counts once in a paired test.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with instruction_id, generator_2 and preference (one reference, one group).

    Returns
    -------
    pandas.DataFrame
        Index instruction_id, one column per model (NaN where it has no parsed label).
    """
    for col in ("instruction_id", "generator_2", "preference"):
        if col not in frame.columns:
            raise MetricsError(f"paired comparison: frame lacks column {col!r}")
    p = frame["preference"].astype(float).replace({0.0: 1.5})
    s = (p - 1).where((p >= 1) & (p <= 2))
    return (
        pd.DataFrame({"instruction_id": frame["instruction_id"], "model": frame["generator_2"], "s": s})
        .groupby(["instruction_id", "model"])["s"].mean().unstack("model")
    )  # fmt: skip


def paired_compare(
    scores: pd.DataFrame, model_a: str, model_b: str, confidence: float = 0.95
) -> dict:
    """Paired t test of d = s_A - s_B over the instructions both models have a parsed label on.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of :func:`per_instruction_scores`.
    model_a, model_b : str
        Column names (models) to compare.
    confidence : float
        Coverage of the interval of the mean difference.

    Returns
    -------
    dict
        model_a, model_b, n (paired instructions), n_unpaired (instructions dropped because one
        side has no parsed label), mean_a, mean_b, diff, se, ci_low, ci_high, t, p_value, note.
        With n < 2 or no variation in d, t/p are NaN and ``note`` says why.
    """
    for m in (model_a, model_b):
        if m not in scores.columns:
            raise MetricsError(f"paired comparison: no labels for model {m!r} in this selection")
    both = scores[[model_a, model_b]].dropna(how="all")
    pairs = both.dropna()
    n, note = len(pairs), ""
    a, b = pairs[model_a].to_numpy(), pairs[model_b].to_numpy()
    d = a - b
    out: dict[str, Any] = {
        "model_a": model_a, "model_b": model_b, "n": n, "n_unpaired": int(len(both) - n),
        "mean_a": float(a.mean()) if n else np.nan, "mean_b": float(b.mean()) if n else np.nan,
        "diff": float(d.mean()) if n else np.nan,
    }  # fmt: skip
    if n < 2:
        note = "fewer than 2 paired instructions: test undefined"
        se = t = pv = lo = hi = np.nan
    elif np.ptp(d) == 0:
        note = "all paired differences are equal: no variation, test undefined"
        se, t, pv, lo, hi = 0.0, np.nan, np.nan, float(d[0]), float(d[0])
    else:
        res = stats.ttest_rel(a, b)
        se = float(d.std(ddof=1) / np.sqrt(n))
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
        t, pv, lo, hi = (
            float(res.statistic),
            float(res.pvalue),
            out["diff"] - half,
            out["diff"] + half,
        )
    if out["n_unpaired"]:
        note = "; ".join(
            filter(None, [note, f"{out['n_unpaired']} unpaired instruction(s) dropped"])
        )
    out.update(se=se, ci_low=lo, ci_high=hi, t=t, p_value=pv, note=note)
    return out


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries stay NaN and do not count as tests).

    Parameters
    ----------
    p_values : array-like
        Unadjusted p-values.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out


def paired_matrix(scores: pd.DataFrame, models: Sequence[str] | None = None) -> pd.DataFrame:
    """All pairwise paired tests with Holm-adjusted p-values (``p_holm``), one row per pair.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of :func:`per_instruction_scores`.
    models : sequence of str, optional
        Models to include (default: all columns).
    """
    models = list(models if models is not None else scores.columns)
    if len(models) < 2:
        raise EmptySelection(f"paired matrix needs at least 2 models, got {len(models)}")
    rows = [paired_compare(scores, a, b) for a, b in itertools.combinations(models, 2)]
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].to_numpy())
    return table
