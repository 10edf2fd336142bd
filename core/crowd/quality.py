"""Annotator quality for crowd-style labelling: per-annotator figures and item overlap (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tiebreak.core.errors import TiebreakError
from tiebreak.core.metrics.agreement import agreement_with_others, categories, dawid_skene_one_coin

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_TOO_FAST",
    "MIN_SHARED",
    "TOO_FEW_NOTE",
    "CrowdError",
    "CrowdReport",
    "label_matrix",
    "annotator_quality",
    "item_coverage",
    "crowd_report",
]

#: Target number of labels per item.
DEFAULT_OVERLAP = 3
#: Median active seconds per label below which an annotator is flagged "too fast".
DEFAULT_TOO_FAST = 5.0
#: Shared items an annotator needs before a quality score means anything (docs/statistics.md §6).
MIN_SHARED = 10
TOO_FEW_NOTE = "too few shared items for a quality score"
#: Columns of :func:`annotator_quality`.
ANNOTATOR_COLUMNS = (
    "annotator", "n_labels", "n_shared", "tie_share", "median_seconds", "too_fast", "too_few",
    "agreement", "ds_accuracy", "note",
)  # fmt: skip


class CrowdError(TiebreakError, ValueError):
    """The frame cannot give crowd figures (unknown group, no parsed label, bad setting)."""


@dataclass
class CrowdReport:
    """Per-annotator figures, per-item coverage and notes for one annotator group."""

    group: str
    annotators: pd.DataFrame
    items: pd.DataFrame
    overlap: int
    too_fast: float
    notes: list[str] = field(default_factory=list)

    @property
    def under_annotated(self) -> pd.DataFrame:
        """Items with fewer than ``overlap`` live labels."""
        return self.items[~self.items["reaches_overlap"]]


def _group_labels(frame: pd.DataFrame, group: str, notes: list[str]) -> pd.DataFrame:
    """Live, parsed labels of ``group``, one per (annotator, comparison) (the latest kept)."""
    known = sorted(set(frame["annotator"].dropna()))
    if group not in known:
        raise CrowdError(f"unknown annotator group {group!r} (known: {', '.join(known) or 'none'})")
    rows = frame[frame["annotator"] == group]
    if "retracted_at" in rows.columns:
        rows = rows[rows["retracted_at"].isna()]
    pref = pd.to_numeric(rows["preference"], errors="coerce").astype(float)
    n_unparsed = int(pref.isna().sum())
    if n_unparsed:
        notes.append(f"{group}: {n_unparsed} label(s) without a parsed preference left out")
    rows = rows.assign(preference=pref.to_numpy())[pref.notna().to_numpy()]
    if rows.empty:
        raise CrowdError(f"annotator group {group!r} has no live parsed label")
    rows = rows.sort_values("annotation_id")
    latest = rows.drop_duplicates(["annotator_name", "comparison_id"], keep="last")
    n_dup = len(rows) - len(latest)
    if n_dup:
        notes.append(f"{group}: {n_dup} repeated label(s) of the same item by the same annotator; the latest kept")
    return latest


def label_matrix(labels: pd.DataFrame) -> pd.DataFrame:
    """Items x annotators matrix of preferences (NaN = not labelled); index comparison_id.

    Parameters
    ----------
    labels : pandas.DataFrame
        One row per (annotator_name, comparison_id) with a float ``preference``.
    """
    return labels.pivot(index="comparison_id", columns="annotator_name", values="preference").astype(float)


def annotator_quality(
    frame: pd.DataFrame, group: str, *, too_fast: float = DEFAULT_TOO_FAST, min_shared: int = MIN_SHARED,
    notes: list[str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Per annotator of ``group``: volume, ties, speed and agreement with the other annotators.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``Store.annotations_frame()`` columns (annotation_id, comparison_id, annotator,
        annotator_name, preference, time_per_example; retracted_at if present).
    group : str
        Annotator group (e.g. ``"humans"``); each ``annotator_name`` in it is one worker.
    too_fast : float
        Seconds; a median active time below it sets ``too_fast`` (unknown time never does).
    min_shared : int
        Fewer shared items than this sets ``too_few`` and the note :data:`TOO_FEW_NOTE`.
    notes : list of str, optional
        Receives notes about left-out labels.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ANNOTATOR_COLUMNS`. ``agreement`` is AlpacaEval's 1 - |x - maj| against
        the majority (mode, documented tie rule) of the OTHER annotators on shared items
        (:func:`tiebreak.core.metrics.agreement.agreement_with_others`); ``ds_accuracy`` is the one-coin
        Dawid-Skene accuracy on the three-way categories; fractions, not percentages.
    """
    if not (too_fast >= 0):
        raise CrowdError(f"too-fast threshold must be a non-negative number of seconds, got {too_fast}")
    notes = [] if notes is None else notes
    labels = _group_labels(frame, group, notes)
    matrix = label_matrix(labels)
    values = matrix.to_numpy()
    present = ~np.isnan(values)
    others = present.sum(axis=1, keepdims=True) - present
    n_shared = (present & (others > 0)).sum(axis=0)
    agreement = agreement_with_others(values)
    _, _, accuracy = dawid_skene_one_coin(categories(values))
    seconds = pd.to_numeric(labels["time_per_example"], errors="coerce").astype(float)
    median = labels.assign(s=seconds.to_numpy()).groupby("annotator_name")["s"].median()
    n_no_time = int(seconds.isna().sum())
    if n_no_time:
        notes.append(f"{group}: {n_no_time} label(s) without recorded seconds (not in the median)")
    rows = []
    for j, name in enumerate(matrix.columns):
        col = values[present[:, j], j]
        med = float(median.get(name, np.nan))
        fast = bool(not np.isnan(med) and med < too_fast)
        few = bool(n_shared[j] < min_shared)
        note = [f"too fast: median {med:.1f} s < {too_fast:g} s"] if fast else []
        note += [f"{TOO_FEW_NOTE} ({int(n_shared[j])} < {min_shared})"] if few else []
        rows.append({
            "annotator": str(name), "n_labels": int(len(col)), "n_shared": int(n_shared[j]),
            "tie_share": float(np.mean(categories(col) == 1)), "median_seconds": med,
            "too_fast": fast, "too_few": few, "agreement": float(agreement[j]),
            "ds_accuracy": float(accuracy[j]), "note": "; ".join(note),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(ANNOTATOR_COLUMNS))


def item_coverage(
    frame: pd.DataFrame, group: str, *, overlap: int = DEFAULT_OVERLAP, notes: list[str] | None = None
) -> pd.DataFrame:
    """Per item labelled by ``group``: live parsed labels and whether it reaches ``overlap``.

    Returns
    -------
    pandas.DataFrame
        Columns comparison_id, n_labels, reaches_overlap; fewest labels first. Items with no
        label from the group are not in the frame and so not listed.
    """
    if overlap < 1:
        raise CrowdError(f"target overlap must be at least 1, got {overlap}")
    labels = _group_labels(frame, group, [] if notes is None else notes)
    counts = labels.groupby("comparison_id").size().rename("n_labels").reset_index()
    counts["n_labels"] = counts["n_labels"].astype(int)
    counts["reaches_overlap"] = counts["n_labels"] >= overlap
    return counts.sort_values(["n_labels", "comparison_id"], kind="stable").reset_index(drop=True)


def crowd_report(
    frame: pd.DataFrame, group: str, *, overlap: int = DEFAULT_OVERLAP, too_fast: float = DEFAULT_TOO_FAST,
    min_shared: int = MIN_SHARED,
) -> CrowdReport:  # fmt: skip
    """Both tables for ``group`` with the notes (left-out labels, flags, listing scope)."""
    notes: list[str] = []
    table = annotator_quality(frame, group, too_fast=too_fast, min_shared=min_shared, notes=notes)
    items = item_coverage(frame, group, overlap=overlap)
    n_fast, n_few = int(table["too_fast"].sum()), int(table["too_few"].sum())
    if n_fast:
        notes.append(f"{n_fast} annotator(s) too fast (median active time < {too_fast:g} s)")
    if n_few:
        notes.append(f"{n_few} annotator(s) with fewer than {min_shared} shared items: {TOO_FEW_NOTE}")
    n_under = int((~items["reaches_overlap"]).sum())
    notes.append(
        f"{n_under} of {len(items)} item(s) below the target overlap of {overlap} label(s) "
        f"(items without any label from {group} are not counted)"
    )
    return CrowdReport(group, table, items, overlap, too_fast, notes)
