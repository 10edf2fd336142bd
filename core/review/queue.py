"""Judge verdicts per comparison and the review-queue filters (pure pandas, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["QueueFilter", "VerdictSummary", "judge_verdicts", "filter_queue"]

DISAGREEMENTS = ("seeds", "orders", "any")


@dataclass(frozen=True)
class VerdictSummary:
    """Per-comparison verdicts of one judge plus how many annotations had no preference."""

    verdicts: pd.DataFrame
    n_annotations: int
    n_without_preference: int


def judge_verdicts(annotations: pd.DataFrame) -> VerdictSummary:
    """Collapse a judge's annotations (all seeds and orders) into one verdict per comparison.

    Parameters
    ----------
    annotations : DataFrame
        Rows of ``Store.annotations_frame`` for one judge group.

    Returns
    -------
    VerdictSummary
        ``verdicts`` columns: comparison_id, instruction_id, dataset, generator_1, generator_2,
        judge, f (mean of preference - 1), n_verdicts, seed_spread (max - min of the scores among seeds
        shown in the same order),
        order_gap (|mean unswapped - mean swapped|, NaN with one order), confidence
        (|2 f - 1|), uncertainty (sqrt(f (1 - f))), length_1, length_2, length_gap
        (length_2 - length_1), rationale, raw_completion (first non-empty of each).
        Annotations without a preference are counted in ``n_without_preference``.
    """
    df = annotations.copy()
    total = len(df)
    df = df[df["preference"].notna()].copy()
    df["s"] = df["preference"].astype(float) - 1.0
    df["swapped"] = df["swapped"].fillna(0).astype(int)
    keys = ["comparison_id"]
    g = df.groupby(keys, sort=True)
    first = g.first()
    out = pd.DataFrame(
        {
            "instruction_id": first["instruction_id"],
            "dataset": first["dataset"],
            "generator_1": first["generator_1"],
            "generator_2": first["generator_2"],
            "judge": first["annotator"],
            "f": g["s"].mean(),
            "n_verdicts": g["s"].size(),
            "seed_spread": _seed_spread(df),
            "length_1": first["length_1"],
            "length_2": first["length_2"],
        }
    )
    by_order = df.pivot_table(index="comparison_id", columns="swapped", values="s", aggfunc="mean")
    if 0 in by_order.columns and 1 in by_order.columns:
        out["order_gap"] = (by_order[0] - by_order[1]).abs().reindex(out.index)
    else:
        out["order_gap"] = np.nan
    out["confidence"] = (2 * out["f"] - 1).abs()
    out["uncertainty"] = np.sqrt((out["f"] * (1 - out["f"])).clip(lower=0))
    out["length_gap"] = out["length_2"] - out["length_1"]
    for col in ("rationale", "raw_completion"):
        # type-var: pandas-stubs want a dtype scalar from agg's callable; str | None is fine at runtime
        out[col] = g[col].agg(lambda s: next((v for v in s if isinstance(v, str) and v), None)) if col in df else None  # type: ignore[type-var]
    out = out.reset_index()
    return VerdictSummary(out, total, total - len(df))


def _seed_spread(df: pd.DataFrame) -> pd.Series:
    """Largest max - min of the scores among verdicts shown in the same order (seeds only)."""
    by_order = df.groupby(["comparison_id", "swapped"])["s"]
    return (by_order.max() - by_order.min()).groupby(level="comparison_id").max()


@dataclass(frozen=True)
class QueueFilter:
    """Review-queue filter; every field None means "no restriction"."""

    models: tuple[str, ...] | None = None
    datasets: tuple[str, ...] | None = None
    disagreement: str | None = None  # "seeds" | "orders" | "any"
    max_confidence: float | None = None  # keep verdicts with |2f - 1| <= this
    min_length_gap: int | None = None  # keep |length_2 - length_1| >= this
    sort: str = "uncertainty"  # "uncertainty" (most uncertain first) | "comparison"

    def describe(self) -> str:
        """Short text of the active restrictions (stored as ``picked_by`` of ad-hoc items)."""
        parts = [f"{k}={v}" for k, v in self.__dict__.items() if v is not None and k != "sort"]
        return "filter: " + (", ".join(parts) if parts else "all")


def filter_queue(verdicts: pd.DataFrame, flt: QueueFilter) -> pd.DataFrame:
    """Rows of ``verdicts`` passing ``flt``, sorted (most uncertain first by default).

    Raises
    ------
    ValueError
        For an unknown disagreement kind or sort key.
    """
    v = verdicts
    mask = pd.Series(True, index=v.index)
    if flt.models:
        mask &= v["generator_2"].isin(flt.models)
    if flt.datasets:
        mask &= v["dataset"].isin(flt.datasets)
    if flt.disagreement is not None:
        if flt.disagreement not in DISAGREEMENTS:
            raise ValueError(f"queue filter: disagreement must be one of {DISAGREEMENTS} (got {flt.disagreement!r})")
        seeds = v["seed_spread"] > 0
        orders = v["order_gap"].fillna(0) > 0
        mask &= {"seeds": seeds, "orders": orders, "any": seeds | orders}[flt.disagreement]
    if flt.max_confidence is not None:
        mask &= v["confidence"] <= flt.max_confidence
    if flt.min_length_gap is not None:
        mask &= v["length_gap"].abs() >= flt.min_length_gap
    out = v[mask]
    if flt.sort == "uncertainty":
        return out.sort_values(["uncertainty", "comparison_id"], ascending=[False, True], kind="stable")
    if flt.sort == "comparison":
        return out.sort_values("comparison_id", kind="stable")
    raise ValueError(f"queue filter: unknown sort {flt.sort!r} (use 'uncertainty' or 'comparison')")
