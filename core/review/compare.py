"""Human-vs-judge figures for the dashboard: agreement, kappa, confusion, biases, calibration."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tiebreak.core.metrics import EmptySelection
from tiebreak.core.metrics.agreement import categories, cohen_kappa, majority_vote, raw_agreement

__all__ = ["CATEGORY_NAMES", "Comparison", "paired_labels", "compare", "bootstrap_agreement", "calibration_bins",
           "position_bias"]

CATEGORY_NAMES = ("output_1 (reference)", "tie", "output_2 (model)")
N_BOOT = 1000


@dataclass
class Comparison:
    """Every dashboard figure for one judge group against one human group (fractions)."""

    n_overlap: int
    agreement: float | None
    agreement_no_ties: float | None
    kappa: float | None
    confusion: pd.DataFrame  # rows: judge category, columns: human category, counts
    summary: pd.DataFrame  # metric, judge, human, n_judge, n_human
    by_dataset: pd.DataFrame  # dataset, n, agreement, lower, upper
    calibration: pd.DataFrame  # bin, lower, upper, n, mean_judge, mean_human
    notes: list[str] = field(default_factory=list)


def paired_labels(annotations: pd.DataFrame, judge: str, humans: str) -> pd.DataFrame:
    """One row per comparison labelled by both groups (judge: mean over seeds; humans: majority).

    Columns: comparison_id, dataset, length_1, length_2, judge_pref, human_pref, judge_first,
    human_first (share of the group's labels choosing the output shown first; NaN when the shown
    order is unknown, i.e. for imported labels).
    """
    a = annotations[annotations["preference"].notna()].copy()
    a["shown_first"] = np.where(a["swapped"].fillna(0).astype(int) == 1, a["preference"] > 1.5,
                                a["preference"] < 1.5).astype(float)
    a.loc[(a["source"] == "import") | (a["preference"] == 1.5), "shown_first"] = np.nan
    j, h = a[a["annotator"] == judge], a[a["annotator"] == humans]
    orders = _judge_orders(j.assign(swapped=j["swapped"].fillna(0).astype(int)))
    jg = j.groupby("comparison_id").agg(judge_pref=("preference", "mean"), judge_first=("shown_first", "mean"),
                                        dataset=("dataset", "first"), length_1=("length_1", "first"),
                                        length_2=("length_2", "first"))  # fmt: skip
    hv = human_majority(h)
    hg = pd.DataFrame({"human_pref": hv, "human_first": h.groupby("comparison_id")["shown_first"].mean()})
    out = jg.join(hg, how="inner").reset_index()
    out.attrs["judge_orders"] = orders
    return out


def human_majority(labels: pd.DataFrame) -> pd.Series:
    """The majority vote of each comparison's labels (``comparison_id``, ``preference``; none null).

    One :func:`~tiebreak.core.metrics.agreement.majority_vote` over a comparisons x labels matrix
    (NaN-padded): the rule applied per comparison, without a Python call per comparison.
    """
    if labels.empty:
        return pd.Series([], index=pd.Index([], name="comparison_id"), name="preference", dtype=float)
    slot = labels.groupby("comparison_id").cumcount()
    matrix = labels.assign(slot=slot.to_numpy()).pivot(index="comparison_id", columns="slot", values="preference")
    return pd.Series(majority_vote(matrix.to_numpy(dtype=float)), index=matrix.index, name="preference")


def bootstrap_agreement(jc: np.ndarray, hc: np.ndarray, rng: np.random.Generator,
                        n_boot: int = N_BOOT) -> tuple[float, float]:  # fmt: skip
    """Percentile bootstrap 95% interval of raw agreement (resampling comparisons)."""
    same = (jc == hc).astype(float)
    idx = rng.integers(0, same.size, size=(n_boot, same.size))
    boots = same[idx].mean(axis=1)
    return float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))


def position_bias(p_model_first: object, p_model_second: object) -> dict[str, float]:
    """Position bias from verdicts in both orders (docs/statistics.md §4).

    Parameters
    ----------
    p_model_first, p_model_second : array-like
        P(model wins) per item when the model was shown first / second.

    Returns
    -------
    dict
        consistency (share of items whose winner is the same in both orders, tie-tie counts),
        position_effect (mean of (P(slot 1 | AB) + P(slot 1 | BA)) / 2 - 0.5) and
        order_averaged (mean of (p_AB + p_BA) / 2), plus n.
    """
    ab, ba = np.asarray(p_model_first, dtype=float), np.asarray(p_model_second, dtype=float)
    if ab.size == 0:
        return {"consistency": float("nan"), "position_effect": float("nan"), "order_averaged": float("nan"), "n": 0}
    same = categories(1 + ab) == categories(1 + ba)
    slot1 = (ab + (1 - ba)) / 2
    return {"consistency": float(np.mean(same)), "position_effect": float(np.mean(slot1 - 0.5)),
            "order_averaged": float(np.mean((ab + ba) / 2)), "n": int(ab.size)}  # fmt: skip


def _judge_orders(a: pd.DataFrame) -> dict[str, float]:
    """:func:`position_bias` of a judge's comparisons judged in both orders (Tiebreak's runs)."""
    known = a[a["source"] != "import"]
    s = known.assign(s=known["preference"] - 1).pivot_table(
        index="comparison_id", columns="swapped", values="s", aggfunc="mean")
    if 0 not in s.columns or 1 not in s.columns:
        return position_bias([], [])
    both = s.dropna(subset=[0, 1])
    return position_bias(both[1], both[0])  # swapped = 1: the model (output_2) was shown first


def _longer_share(pref: np.ndarray, l1: np.ndarray, l2: np.ndarray) -> tuple[float, int]:
    """Share of decided verdicts (no tie, lengths differ) that pick the longer output."""
    c = categories(pref)
    keep = (c != 1) & (l1 != l2) & ~np.isnan(c)
    if not keep.any():
        return float("nan"), 0
    picked_2 = c[keep] == 2
    longer_2 = l2[keep] > l1[keep]
    return float(np.mean(picked_2 == longer_2)), int(keep.sum())


def calibration_bins(judge_pref: object, bins: int = 5) -> np.ndarray:
    """Calibration bin (0 .. ``bins`` - 1) of each judge preference: equal-width bins of P(model wins)."""
    edges = np.linspace(0, 1, bins + 1)
    f = np.asarray(judge_pref, dtype=float) - 1
    return np.clip(np.digitize(f, edges[1:-1]), 0, bins - 1)


def compare(pairs: pd.DataFrame, *, seed: int = 0, bins: int = 5) -> Comparison:
    """All dashboard figures from :func:`paired_labels` output.

    Parameters
    ----------
    pairs : DataFrame
        Paired labels (see :func:`paired_labels`).
    seed : int
        Seed of the bootstrap (results are reproducible).
    bins : int
        Number of equal-width bins of the judge probability for the calibration table.
    """
    n = len(pairs)
    notes: list[str] = []
    jc, hc = categories(pairs["judge_pref"]), categories(pairs["human_pref"])
    counts = np.zeros((3, 3), dtype=int)
    for a, b in zip(jc, hc, strict=True):
        counts[int(a), int(b)] += 1
    conf = pd.DataFrame(counts, index=list(CATEGORY_NAMES), columns=list(CATEGORY_NAMES))
    agreement = no_ties = kappa = None
    if n:
        agreement = raw_agreement(pairs["judge_pref"], pairs["human_pref"])
        try:
            no_ties = raw_agreement(pairs["judge_pref"], pairs["human_pref"], ties=False)
        except EmptySelection as exc:
            notes.append(str(exc))
        kappa = cohen_kappa(jc, hc, labels=[0.0, 1.0, 2.0])
    else:
        notes.append("no comparison carries both a judge verdict and a human label")
    rows = []
    l1, l2 = pairs["length_1"].to_numpy(float), pairs["length_2"].to_numpy(float)
    (jl, nj), (hl, nh) = _longer_share(pairs["judge_pref"].to_numpy(float), l1, l2), \
        _longer_share(pairs["human_pref"].to_numpy(float), l1, l2)  # fmt: skip
    rows.append({"metric": "prefers the longer output", "judge": jl, "human": hl, "n_judge": nj, "n_human": nh})
    jf, hf = pairs["judge_first"].dropna(), pairs["human_first"].dropna()
    rows.append({"metric": "prefers the output shown first", "judge": jf.mean() if len(jf) else np.nan,
                 "human": hf.mean() if len(hf) else np.nan, "n_judge": len(jf), "n_human": len(hf)})  # fmt: skip
    if not len(jf):
        notes.append("judge position preference unknown: imported verdicts do not record the shown order")
    orders = pairs.attrs.get("judge_orders") or position_bias([], [])
    for key, name in (("consistency", "position consistency (judged in both orders)"),
                      ("position_effect", "mean position effect (slot 1, both orders)")):
        rows.append({"metric": name, "judge": orders[key], "human": np.nan, "n_judge": orders["n"], "n_human": 0})
    rows.append({"metric": "win rate of output_2", "judge": (pairs["judge_pref"] - 1).mean() if n else np.nan,
                 "human": (pairs["human_pref"] - 1).mean() if n else np.nan, "n_judge": n, "n_human": n})  # fmt: skip
    rng = np.random.default_rng(seed)
    by_ds = []
    for ds, part in pairs.groupby(pairs["dataset"].fillna("(none)"), sort=True):
        a, b = categories(part["judge_pref"]), categories(part["human_pref"])
        lo, hi = bootstrap_agreement(a, b, rng)
        by_ds.append({"dataset": ds, "n": len(part), "agreement": float(np.mean(a == b)), "lower": lo, "upper": hi})
    edges = np.linspace(0, 1, bins + 1)
    f, y = (pairs["judge_pref"] - 1).to_numpy(float), (pairs["human_pref"] - 1).to_numpy(float)
    which = calibration_bins(pairs["judge_pref"], bins)
    calib = [{"bin": k, "lower": edges[k], "upper": edges[k + 1], "n": int((which == k).sum()),
              "mean_judge": float(f[which == k].mean()) if (which == k).any() else np.nan,
              "mean_human": float(y[which == k].mean()) if (which == k).any() else np.nan}
             for k in range(bins)]  # fmt: skip
    return Comparison(n, agreement, no_ties, kappa, conf, pd.DataFrame(rows),
                      pd.DataFrame(by_ds, columns=["dataset", "n", "agreement", "lower", "upper"]),
                      pd.DataFrame(calib), notes)  # fmt: skip
