"""One name, one definition: every statistic the app shows, with its label, sentence and formula.

Screens take a statistic's label and tooltip from here (``tooltip("agreement", n=60)``), so a
name means the same thing wherever it appears; each entry points into docs/metrics.md or
docs/statistics.md. Pure data, no heavy imports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

from tiebreak.core.metrics import MetricsError
from tiebreak.core.metrics.accumulate import MIN_LABELS_FOR_INTERVAL
from tiebreak.core.metrics.consensus import TIE_RULE

__all__ = ["Definition", "DEFINITIONS", "TOO_FEW_LABELS", "define", "tooltip", "interval_text"]

#: What an interval cell says when it has fewer than ``MIN_LABELS_FOR_INTERVAL`` labels.
TOO_FEW_LABELS = "too few labels"


@dataclass(frozen=True)
class Definition:
    """A statistic: short label, one-sentence definition, formula, and where the docs explain it."""

    name: str
    label: str
    sentence: str
    formula: str
    reference: str


_ENTRIES = [
    Definition("win_rate", "win rate", "Share of comparisons the model wins against the reference, a tie counting half.",
               "mean(p - 1) over parsed labels, p in [1, 2]", "docs/metrics.md#leaderboard-row-one-model-vs-the-reference-one-annotator-group"),
    Definition("standard_error", "SE", "AlpacaEval's standard error of the win rate over instructions.",
               "std(p - 1, ddof=1) / sqrt(n)", "docs/metrics.md#leaderboard-row-one-model-vs-the-reference-one-annotator-group"),
    Definition("win_rate_interval", "95% CI", "Tie-adjusted Wilson score interval of the win rate "
               f"(needs at least {MIN_LABELS_FOR_INTERVAL} labels).",
               "n (s - mu)^2 = z^2 (mu (1 - mu) - mean(s (1 - s)))", "docs/statistics.md#3-confidence-intervals-for-win-rates-with-ties"),
    Definition("n_labels", "n", "Parsed labels counted (unparsed and can't-judge answers are left out).",
               "count(1 <= p <= 2)", "docs/metrics.md#leaderboard-row-one-model-vs-the-reference-one-annotator-group"),
    Definition("n_wins", "wins", "Labels preferring the model.", "count(p > 1.5)", "docs/metrics.md#leaderboard-row-one-model-vs-the-reference-one-annotator-group"),
    Definition("n_wins_base", "losses", "Labels preferring the reference.", "count(p < 1.5)",
               "docs/metrics.md#leaderboard-row-one-model-vs-the-reference-one-annotator-group"),
    Definition("n_draws", "ties", "Labels calling it a tie.", "count(p == 1.5)", "docs/metrics.md#leaderboard-row-one-model-vs-the-reference-one-annotator-group"),
    Definition("discrete_win_rate", "discrete win rate", "Win rate after rounding each label to win, tie or loss.",
               "(wins + ties / 2) / n", "docs/metrics.md#leaderboard-row-one-model-vs-the-reference-one-annotator-group"),
    Definition("agreement", "human agreement", "AlpacaEval's human agreement: how close each judge label is to the "
               "majority of the human labels of the same comparison, averaged over judge labels (seeds pooled).",
               f"mean over judge labels of 1 - |p_judge - majority(p_humans)|; majority: {TIE_RULE}",
               "docs/metrics.md#agreement-which-one-is-which"),
    Definition("n_agreement_items", "same items", "Comparisons that have both a parsed judge label and a parsed "
               "human label (the items agreement is computed on).", "count(comparisons labelled by both)",
               "docs/metrics.md#judge-evaluator-metrics-against-human-cross-annotations"),
    Definition("n_judge_labels", "n judge labels", "Parsed judge labels scored by agreement: those on comparisons "
               "that have a parsed human label (seeds pooled).", "count(judge labels on human-labelled comparisons)",
               "docs/metrics.md#agreement-which-one-is-which"),
    Definition("raw_agreement", "raw agreement", "Share of comparisons where the judge (mean over seeds) and the "
               "human majority fall in the same category: reference, tie or model.",
               "mean(category(judge) == category(human majority))", "docs/statistics.md#5-agreement-coefficients-for-3-way-labels-with-missing-data"),
    Definition("raw_agreement_no_ties", "raw agreement (no ties)", "Raw agreement over the comparisons "
               "where neither side is a tie.", "mean(category(judge) == category(human)) | no tie",
               "docs/statistics.md#5-agreement-coefficients-for-3-way-labels-with-missing-data"),
    Definition("cohen_kappa", "Cohen's kappa", "Raw agreement corrected for the agreement expected by chance.",
               "(p_o - p_e) / (1 - p_e)", "docs/statistics.md#5-agreement-coefficients-for-3-way-labels-with-missing-data"),
    Definition("prefers_longer", "prefers the longer output", "Share of decided verdicts (no tie, lengths differ) "
               "that pick the longer output.", "mean(picked == longer)", "docs/metrics.md#judge-evaluator-metrics-against-human-cross-annotations"),
    Definition("prefers_first", "prefers the output shown first", "Share of labels choosing the output shown first "
               "(unknown for imported labels).", "mean(chosen slot == 1)", "docs/statistics.md#4-position-bias-of-judges-and-of-humans"),
    Definition("position_consistency", "position consistency", "Share of items judged in both orders whose winner "
               "is the same in both (tie-tie counts).", "mean(winner(AB) == winner(BA))", "docs/statistics.md#4-position-bias-of-judges-and-of-humans"),
    Definition("position_effect", "mean position effect", "How much more often slot 1 is chosen than half, "
               "over items judged in both orders.", "mean((P(slot1|AB) + P(slot1|BA)) / 2 - 0.5)",
               "docs/statistics.md#4-position-bias-of-judges-and-of-humans"),
    Definition("confusion", "confusion matrix", "Comparisons by judge category (rows) and human-majority category "
               "(columns).", "counts of (category(judge), category(human))", "docs/statistics.md#5-agreement-coefficients-for-3-way-labels-with-missing-data"),
    Definition("agreement_by_dataset", "raw agreement by dataset", "Raw agreement per dataset category with a "
               "percentile bootstrap 95% interval (resampling comparisons).", "mean(category match) per dataset",
               "docs/statistics.md#5-agreement-coefficients-for-3-way-labels-with-missing-data"),
    Definition("calibration", "calibration", "Mean human outcome against the mean judge probability in equal-width "
               "bins of the judge probability.", "per bin: mean(p_judge - 1), mean(p_human - 1)",
               "docs/statistics.md#1-human-anchored-win-rate-from-judge-verdicts-plus-a-human-spot-check-ppi"),
    Definition("items_done", "items done", "Items this annotator answered in this session (undone ones excluded).",
               "count(answers)", "docs/labelling.md#what-is-stored-for-every-decision"),
    Definition("median_seconds", "median time per item", "Median active seconds per answered item (idle time cut).",
               "median(active seconds)", "docs/labelling.md#what-is-stored-for-every-decision"),
    Definition("estimate", "win rate (estimate)", "Human-anchored win rate estimated from judge verdicts plus the "
               "human spot-check.", "PPI / PPI++ / Horvitz-Thompson", "docs/statistics.md#1-human-anchored-win-rate-from-judge-verdicts-plus-a-human-spot-check-ppi"),
    Definition("estimate_interval", "95% interval", "95% confidence interval of the estimate.",
               "estimate +- 1.96 SE", "docs/statistics.md#1-human-anchored-win-rate-from-judge-verdicts-plus-a-human-spot-check-ppi"),
    Definition("n_reviewed", "n reviewed", "Items with a human label in the audit.", "count(labelled)", "docs/statistics.md#2-choosing-which-verdicts-to-spot-check"),
    Definition("n_population", "N", "Items with a judge verdict (the population estimated).", "count(verdicts)",
               "docs/statistics.md#2-choosing-which-verdicts-to-spot-check"),
    Definition("ppi_lambda", "λ", "PPI++ power-tuning weight given to the judge (0: human only, 1: plain PPI).",
               "Cov(Y, f) / ((1 + n/N) Var(f)) clipped to [0, 1]", "docs/statistics.md#1-human-anchored-win-rate-from-judge-verdicts-plus-a-human-spot-check-ppi"),
    Definition("more_reviews", "more reviews", "Reviews still needed to reach the target interval width.",
               "n (width / target)^2 - n", "docs/statistics.md#2-choosing-which-verdicts-to-spot-check"),
]  # fmt: skip
#: name -> Definition (read-only).
DEFINITIONS = MappingProxyType({d.name: d for d in _ENTRIES})


def define(name: str) -> Definition:
    """The definition of ``name``; :class:`MetricsError` names the known ones when it is unknown."""
    try:
        return DEFINITIONS[name]
    except KeyError:
        raise MetricsError(f"no statistic is defined as {name!r}; known: {', '.join(sorted(DEFINITIONS))}") from None


def tooltip(name: str, n: int | None = None, *, what: str = "labels", note: str = "") -> str:
    """Tooltip text: label, definition, formula, the n it rests on and a note (plain text).

    Parameters
    ----------
    name : str
        A key of :data:`DEFINITIONS`.
    n : int, optional
        How many ``what`` the shown value rests on.
    what : str
        What ``n`` counts (labels, comparisons, judge labels...).
    note : str
        Anything else about this value (e.g. "too few labels").
    """
    d = define(name)
    lines = [f"{d.label}: {d.sentence}", f"Formula: {d.formula}"]
    if n is not None:
        lines.append(f"n = {n} {what}")
    if note:
        lines.append(note)
    lines.append(f"See {d.reference}")
    return "\n".join(lines)


def interval_text(low: float | None, high: float | None, n: int) -> str:
    """An interval as "34–71%", or :data:`TOO_FEW_LABELS` / "—" when it does not exist."""
    if n < MIN_LABELS_FOR_INTERVAL:
        return TOO_FEW_LABELS if n > 0 else "—"
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return "—"
    return f"{100 * low:.0f}–{100 * high:.0f}%"
