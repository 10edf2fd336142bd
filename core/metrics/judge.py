"""Judge (evaluator) metrics against human cross-annotations, as AlpacaEval's analyze.Analyzer.

Usage: ``judge_metrics(store.annotations_frame(), "humans", ["my_judge"], hourly_rate=18.0)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from tiebreak.core.metrics import EmptySelection, MetricsError
from tiebreak.core.metrics.agreement import (
    _majority,
    categories,
    cohen_kappa,
    krippendorff_alpha_nominal,
)
from tiebreak.core.metrics.winrate import leaderboard

__all__ = [
    "COLUMNS",
    "EXTRA_COLUMNS",
    "UnknownGroup",
    "judge_metrics",
    "contains_list",
]

#: AlpacaEval's evaluator leaderboard columns, in its order.
COLUMNS = [
    "Human agreement", "Price [$/1000 examples]", "Time [seconds/1000 examples]",
    "Spearman corr.", "Pearson corr.", "Bias", "Variance", "Proba. prefer longer",
    "Proba. prefer lists", "Proba. prefer 1", "# parsed",
]  # fmt: skip
#: Chance-corrected and raw agreement next to them (fractions; see :func:`judge_metrics`).
EXTRA_COLUMNS = [
    "Raw agreement", "Raw agreement (no ties)", "Cohen's kappa", "Krippendorff's alpha",
]  # fmt: skip
#: AlpacaEval's ``utils.contains_list``: a line starting with a bullet, "1." / "1)" or "a." / "A)".
_LIST_RE = re.compile(
    r"(?m)^\s*(?:[\*\•\-]\s*[^\w]*\w+|\d+[\.\)]\s*[^\w]*\w+|[a-zA-Z][\.\)]\s+[^\w]*\w+)"
)
_KEYS = ["instruction", "output_1", "output_2"]


class UnknownGroup(MetricsError, KeyError):
    """An annotator group named by the caller is not in the frame."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def contains_list(text: object) -> bool:
    """True when ``text`` contains a list item (same patterns as AlpacaEval's contains_list)."""
    return isinstance(text, str) and _LIST_RE.search(text) is not None


@dataclass
class _Matrix:
    """Labels of one group as comparisons x slots (NaN = missing) plus per-comparison facts."""

    cids: np.ndarray  # comparison codes (rows)
    m: np.ndarray  # preferences, n_cids x n_slots
    first: np.ndarray  # label of the first row per comparison (AlpacaEval's drop_duplicates)
    rows: pd.DataFrame  # the rows used (for price, time, generator)


def _slot_key(index: pd.Series) -> np.ndarray:
    """Sortable codes for annotator_index (numeric when every value is, else text)."""
    num = pd.to_numeric(index, errors="coerce")
    if num.notna().sum() == index.notna().sum():
        return num.fillna(-1).to_numpy(dtype=float)
    return pd.factorize(index.astype(str), sort=True)[0].astype(float)


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Validated working copy with columns cid (comparison code), slot, p (0 -> 1.5)."""
    missing = {"annotator", "annotator_index", "preference"} - set(frame.columns)
    if "comparison_id" not in frame.columns:
        missing |= set(_KEYS) - set(frame.columns)
    if missing:
        raise MetricsError(f"judge_metrics: frame lacks column(s) {', '.join(sorted(missing))}")
    df = frame.copy()
    if "comparison_id" in df.columns:
        df["cid"] = pd.factorize(df["comparison_id"])[0]
    else:
        df["cid"] = df.groupby(_KEYS, sort=False).ngroup()
    df["slot"] = _slot_key(df["annotator_index"])
    p = pd.to_numeric(df["preference"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    p = np.where(p == 0, 1.5, p)
    bad = ~np.isnan(p) & ((p < 1) | (p > 2))
    if bad.any():
        first = df.index[bad][0]
        raise MetricsError(
            f"judge_metrics: {int(bad.sum())} preference(s) outside [1, 2], first at row {first} "
            f"(group {df.loc[first, 'annotator']!r}, value {p[bad][0]})"
        )
    df["p"] = p
    return df.sort_values(["cid", "slot"], kind="stable")


def _gold_matrix(df: pd.DataFrame, n_gold: int | None, notes: list[str], name: str) -> _Matrix:
    """Complete gold comparisons: the first n_gold parsed labels of each (slot order)."""
    parsed = df[~np.isnan(df["p"].to_numpy())]
    if parsed.empty:
        raise EmptySelection(f"judge_metrics: gold group {name!r} has no parsed label")
    rank = parsed.groupby("cid").cumcount().to_numpy()
    counts = parsed.groupby("cid")["p"].transform("size").to_numpy()
    n_gold = int(n_gold or parsed.groupby("cid").size().mode().max())
    keep = (rank < n_gold) & (counts >= n_gold)
    used = parsed[keep]
    n_out = df["cid"].nunique() - used["cid"].nunique()
    if n_out:
        notes.append(f"{name}: {n_out} comparison(s) with fewer than {n_gold} parsed labels left out")
    if used.empty:
        raise EmptySelection(f"judge_metrics: no comparison has {n_gold} parsed labels of {name!r}")
    m = used["p"].to_numpy().reshape(-1, n_gold)
    return _Matrix(used["cid"].to_numpy()[::n_gold], m, m[:, 0], used)


def _judge_matrix(df: pd.DataFrame, gold_cids: np.ndarray, notes: list[str], name: str) -> _Matrix:
    """The judge's labels on the gold comparisons as comparisons x seeds (NaN = missing)."""
    inside = np.isin(df["cid"].to_numpy(), gold_cids)
    if (~inside).any():
        notes.append(f"{name}: {int((~inside).sum())} label(s) on comparisons outside the complete gold set left out")
    rows = df[inside]
    if rows.empty:
        raise EmptySelection(f"judge_metrics: judge {name!r} has no label on the gold comparisons")
    cids, ci = np.unique(rows["cid"].to_numpy(), return_inverse=True)
    seeds, si = np.unique(rows["slot"].to_numpy(), return_inverse=True)
    flat = ci * len(seeds) + si
    if len(np.unique(flat)) != len(flat):
        raise MetricsError(f"judge_metrics: judge {name!r} has two labels for one comparison and seed")
    m = np.full((len(cids), len(seeds)), np.nan)
    m[ci, si] = rows["p"].to_numpy()
    first = rows.drop_duplicates("cid")["p"].to_numpy()  # rows are sorted by (cid, slot)
    n_null = int(np.isnan(rows["p"].to_numpy()).sum())
    if n_null:
        notes.append(f"{name}: {n_null} unparsed label(s) on the gold comparisons not counted in # parsed")
    return _Matrix(cids, m, first, rows)


def _score(pred: np.ndarray, target: np.ndarray) -> float:
    """AlpacaEval absolute score 1 - mean|target - pred| over pairs with both present (NaN if none)."""
    keep = ~(np.isnan(pred) | np.isnan(target))
    return float(1.0 - np.mean(np.abs(target[keep] - pred[keep]))) if keep.any() else np.nan


def _leave_one_out(m: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(slot labels, majority of the other slots) per slot, for rows with >= max(1, k-1) labels."""
    k = m.shape[1]
    if k < 2:
        return []
    rows = (~np.isnan(m)).sum(axis=1) >= max(1, k - 1)
    sub = m[rows]
    return [(sub[:, s], _majority(np.delete(sub, s, axis=1))) for s in range(k)]


def _mean_scores(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """(mean score, mean error) over slots, as Analyzer averages its per-index results."""
    scores = np.array([_score(a, b) for a, b in pairs], dtype=float)
    scores = scores[~np.isnan(scores)]
    if len(scores) == 0:
        return np.nan, np.nan
    return float(np.mean(scores)), float(np.mean(1.0 - scores))


def _win_rates(rows: pd.DataFrame) -> pd.Series:
    """Per generator_2: 100 x the win rate (the one leaderboard computation) over parsed labels."""
    parsed = rows[~np.isnan(rows["p"].to_numpy())]
    if not len(parsed):
        return pd.Series(dtype=float)
    table = leaderboard(pd.DataFrame({"generator_2": parsed["generator_2"], "preference": parsed["p"]}), keys=("generator_2",))
    return table["win_rate"] * 100


def _correlations(judge: pd.DataFrame, gold: pd.DataFrame) -> tuple[float, float]:
    """Spearman and Pearson between per-model win rates (NaN with < 2 models or no spread)."""
    if "generator_2" not in judge.columns:
        return np.nan, np.nan
    both = pd.concat([_win_rates(gold).rename("g"), _win_rates(judge).rename("j")], axis=1).dropna()
    if len(both) < 2 or both["g"].nunique() < 2 or both["j"].nunique() < 2:
        return np.nan, np.nan
    g, j = both["g"].to_numpy(), both["j"].to_numpy()
    return float(stats.spearmanr(g, j).statistic), float(stats.pearsonr(g, j).statistic)


def _biases(first: np.ndarray, texts: pd.DataFrame, delta: int) -> tuple[float, float]:
    """Proba. prefer longer / lists from one label per comparison (NaN when nothing qualifies)."""
    decided = ~np.isnan(first) & (first != 1.5)
    best_is_2 = first > 1.5
    l1, l2 = texts["length_1"].to_numpy(), texts["length_2"].to_numpy()
    longer = decided & (np.abs(l1 - l2) > delta)
    n_longer = int(longer.sum())
    p_longer = float((longer & ((l2 > l1) == best_is_2)).sum() / n_longer) if n_longer else np.nan
    if texts["list_1"].isna().any():
        return p_longer, np.nan
    list_1, list_2 = texts["list_1"].to_numpy(bool), texts["list_2"].to_numpy(bool)
    either = decided & (list_1 ^ list_2)
    n_either = int(either.sum())
    p_list = float((either & np.where(best_is_2, list_2, list_1)).sum() / n_either) if n_either else np.nan
    return p_longer, p_list


def _texts(df: pd.DataFrame) -> pd.DataFrame:
    """Per comparison code: output lengths (code points) and whether each output has a list."""
    first = df.drop_duplicates("cid").set_index("cid")
    out = pd.DataFrame(index=first.index)
    for i in (1, 2):
        text = first[f"output_{i}"] if f"output_{i}" in first.columns else None
        if f"length_{i}" in first.columns and first[f"length_{i}"].notna().all():
            out[f"length_{i}"] = first[f"length_{i}"].astype(float)
        elif text is not None:
            out[f"length_{i}"] = text.astype(str).str.len().astype(float)
        else:
            out[f"length_{i}"] = np.nan
        out[f"list_{i}"] = text.map(contains_list).astype(object) if text is not None else None
    return out


def _extra(pairs: list[tuple[np.ndarray, np.ndarray]], own: np.ndarray) -> dict[str, float]:
    """Raw agreement (with / without ties), Cohen's kappa over pooled pairs; alpha within group."""
    out = dict.fromkeys(EXTRA_COLUMNS, np.nan)
    if pairs:
        a = categories(np.concatenate([x for x, _ in pairs]))
        b = categories(np.concatenate([y for _, y in pairs]))
        keep = ~(np.isnan(a) | np.isnan(b))
        a, b = a[keep], b[keep]
        if len(a):
            out["Raw agreement"] = float(np.mean(a == b))
            out["Cohen's kappa"] = cohen_kappa(a, b, labels=[0, 1, 2])
            decided = (a != 1) & (b != 1)
            if decided.any():
                out["Raw agreement (no ties)"] = float(np.mean(a[decided] == b[decided]))
    try:
        out["Krippendorff's alpha"] = krippendorff_alpha_nominal(categories(own))
    except EmptySelection:
        pass
    return out


def _common(mat: _Matrix, texts: pd.DataFrame, gold: _Matrix, delta: int) -> dict[str, float]:
    """Columns computed the same way for the gold group and for judges."""
    spearman, pearson = _correlations(mat.rows, gold.rows)
    longer, lists = _biases(mat.first, texts.loc[mat.cids], delta)
    p = mat.m[~np.isnan(mat.m)]
    return {
        "Spearman corr.": spearman,
        "Pearson corr.": pearson,
        "Proba. prefer longer": longer,
        "Proba. prefer lists": lists,
        "Proba. prefer 1": float(2 - p.mean()) if len(p) else np.nan,
        "# parsed": int(len(p)),
    }


def _gold_row(gold: _Matrix, texts: pd.DataFrame, hourly_rate: float | None, delta: int) -> dict:
    """The humans' own row: leave-one-out agreement, bias 0, measured (or stored) price and time."""
    pairs = _leave_one_out(gold.m)
    score, error = _mean_scores(pairs)
    seconds = _mean_col(gold.rows, "time_per_example")
    if hourly_rate is None:
        price = _mean_col(gold.rows, "price_per_example")
    else:
        price = seconds * hourly_rate / 3600.0
    row = {
        "Human agreement": score * 100,
        "Price [$/1000 examples]": float(price) * 1000,
        "Time [seconds/1000 examples]": seconds * 1000,
        "Bias": 0.0,
        "Variance": error * 100,
    }
    return row | _common(gold, texts, gold, delta) | _extra(pairs, gold.m)


def _judge_row(mat: _Matrix, gold: _Matrix, texts: pd.DataFrame, delta: int) -> dict:
    """One judge's row: per-seed agreement with the gold majority, bias, variance and the rest."""
    target = _majority(gold.m)[np.searchsorted(gold.cids, mat.cids)]
    pairs = [(mat.m[:, s], target) for s in range(mat.m.shape[1])]
    score, _ = _mean_scores(pairs)
    bias = np.nan
    if mat.m.shape[1] > 1:
        bias_score = _score(_majority(mat.m), target)
        bias = (1.0 - bias_score) * 100
    _, var_error = _mean_scores(_leave_one_out(mat.m))
    row = {
        "Human agreement": score * 100,
        "Price [$/1000 examples]": _mean_col(mat.rows, "price_per_example") * 1000,
        "Time [seconds/1000 examples]": _mean_col(mat.rows, "time_per_example") * 1000,
        "Bias": bias,
        "Variance": var_error * 100,
    }
    return row | _common(mat, texts, gold, delta) | _extra(pairs, mat.m)


def _mean_col(rows: pd.DataFrame, col: str) -> float:
    """Mean of a numeric column (NaN when absent or empty)."""
    if col not in rows.columns:
        return np.nan
    return float(pd.to_numeric(rows[col], errors="coerce").mean())


def judge_metrics(
    frame: pd.DataFrame,
    gold_group: str,
    judges: list[str] | None = None,
    *,
    hourly_rate: float | None = 18.0,
    n_gold: int | None = None,
    significant_delta_length: int = 30,
) -> pd.DataFrame:
    """AlpacaEval's evaluator leaderboard for judges against a gold group of humans.

    Usage: ``judge_metrics(store.annotations_frame(), "humans", ["gpt4"], hourly_rate=18.0)``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Annotations in ``Store.annotations_frame()`` columns: annotator (group), annotator_index
        (member or seed), preference, comparison_id (or instruction/output_1/output_2),
        generator_2, output_1/output_2 (or length_1/length_2), price_per_example,
        time_per_example.
    gold_group : str
        The human group whose majority is the target.
    judges : list of str, optional
        Judge groups; default every other group (of kind 'judge' when annotator_kind is given).
    hourly_rate : float or None
        USD per hour paid to humans: their price is measured seconds x rate. None uses the gold
        rows' ``price_per_example`` as AlpacaEval does.
    n_gold : int, optional
        Labels per gold comparison (default: the most common number of parsed labels per
        comparison). Comparisons with fewer are left out (noted) and those with more keep their
        first n_gold labels in annotator_index order, as ``Analyzer(n_annotators=...)`` does.
    significant_delta_length : int
        Length difference (characters) above which one output counts as longer.

    Returns
    -------
    pandas.DataFrame
        One row per group (gold first, index = group name), columns :data:`COLUMNS` then
        :data:`EXTRA_COLUMNS`; ``.attrs["notes"]`` lists what was left out and why.

    Notes
    -----
    Definitions follow ``alpaca_eval.analyze.get_metrics_evaluator`` (0.6.6, scoring rule
    "absolute"): majorities use :func:`tiebreak.core.metrics.agreement.majority_vote` (tie rule in
    :data:`tiebreak.core.metrics.agreement.TIE_RULE`). A judge's seeds are its distinct annotator_index
    values (a missing row and a null label are both a missing seed). Judge labels are restricted
    to the complete gold comparisons (AlpacaEval only asks judges about those). Extra columns are
    fractions: 3-way categories (p < 1.5, = 1.5, > 1.5) of each seed's label vs the gold majority
    (gold row: each human vs the others' majority), pooled; Krippendorff's alpha is within the
    group (humans among themselves, a judge among its seeds).
    """
    df = _prepare(frame)
    groups = list(pd.unique(df["annotator"]))
    if gold_group not in groups:
        raise UnknownGroup(f"judge_metrics: gold group {gold_group!r} not in the frame (groups: {groups})")
    if judges is None:
        kind = df.get("annotator_kind")
        judges = [g for g in groups if g != gold_group and (kind is None or (kind[df["annotator"] == g] == "judge").any())]
    if gold_group in judges:
        raise MetricsError(f"judge_metrics: the gold group {gold_group!r} cannot also be a judge")
    unknown = [j for j in judges if j not in groups]
    if unknown:
        raise UnknownGroup(f"judge_metrics: judge group(s) {unknown} not in the frame (groups: {groups})")
    notes: list[str] = []
    gold = _gold_matrix(df[df["annotator"] == gold_group], n_gold, notes, gold_group)
    texts = _texts(df[df["cid"].isin(gold.cids)])
    rows = {gold_group: _gold_row(gold, texts, hourly_rate, significant_delta_length)}
    for name in judges:
        mat = _judge_matrix(df[df["annotator"] == name], gold.cids, notes, name)
        rows[name] = _judge_row(mat, gold, texts, significant_delta_length)
    out = pd.DataFrame.from_dict(rows, orient="index")[COLUMNS + EXTRA_COLUMNS]
    out["# parsed"] = out["# parsed"].astype(int)
    out.index.name = "annotator"
    out.attrs["notes"] = notes
    return out
