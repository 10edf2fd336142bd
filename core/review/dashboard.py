"""The Human-vs-judge dashboard's snapshot: the one *agreement* beside the figures of ``compare``.

``agreement`` here is the metric of that name everywhere (``tiebreak.core.metrics.consensus``,
docs/metrics.md): the labelling panel and the dashboard feed the same accumulator, so they show
the same number for the same items. The category match ``compare`` computes is shown under its
own name, *raw agreement*. Reading and computing are split so the GUI can run both off its
thread (:func:`snapshot_at` opens its own connection). The snapshot also names the comparisons
behind every cell, bar and point (:func:`items_of`), so a click can browse exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tiebreak.core.metrics.consensus import Agreement, AgreementAccumulator

if TYPE_CHECKING:
    import pandas as pd

    from tiebreak.core.review.compare import Comparison
    from tiebreak.core.store import Store

__all__ = ["DashboardSnapshot", "agreement_of", "group_choices", "items_of", "paired_items", "read_labels", "summarise", "snapshot_at"]

#: The dataset name :func:`tiebreak.core.review.compare.compare` gives items without one.
NO_DATASET = "(none)"


@dataclass(frozen=True)
class DashboardSnapshot:
    """Every dashboard figure for one judge group against one human group."""

    judge: str
    humans: str
    agreement: Agreement | None  # None: no comparison labelled by both
    comparison: Comparison
    #: One row per comparison labelled by both (see :func:`paired_items`).
    items: pd.DataFrame | None = field(default=None, compare=False)


def agreement_of(frame: pd.DataFrame, judge: str, humans: str) -> Agreement | None:
    """*agreement* of the ``judge`` group's labels with the majority of the ``humans`` group's labels.

    Parameters
    ----------
    frame : pandas.DataFrame
        Live annotations with columns annotator, comparison_id, preference.
    judge, humans : str
        Annotator groups: the judge's labels are scored against the humans' majority.
    """
    acc = AgreementAccumulator()
    human_rows = frame[frame["annotator"] == humans]
    judge_rows = frame[(frame["annotator"] == judge) & frame["comparison_id"].isin(human_rows["comparison_id"])]
    for part, group, kind in ((judge_rows, judge, "judge"), (human_rows, humans, "human")):  # judges first
        for cid, p in zip(part["comparison_id"].tolist(), part["preference"].tolist(), strict=True):
            acc.add(kind, group, cid, p)
    return acc.finalise().get(judge)


def group_choices(store: Store) -> tuple[list[str], list[str]]:
    """(judge groups, human groups) to pick from, sorted (reads no annotation: quick at any size)."""
    from tiebreak.core.review.sql import group_names_by_kind

    names = group_names_by_kind(store)
    return names.get("judge", []), names.get("human", [])


def read_labels(store: Store, judge: str, humans: str) -> pd.DataFrame:
    """The live labels of both groups: the columns :func:`summarise` needs (see ``review.sql.dashboard_labels``)."""
    from tiebreak.core.review.sql import dashboard_labels

    return dashboard_labels(store, [judge, humans])


def paired_items(pairs: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Where each paired comparison falls in the figures of ``compare(pairs, bins=bins)``.

    Parameters
    ----------
    pairs : pandas.DataFrame
        :func:`tiebreak.core.review.compare.paired_labels` output.
    bins : int
        Number of calibration bins (as given to ``compare``).

    Returns
    -------
    pandas.DataFrame
        comparison_id, dataset (``"(none)"`` when missing), judge_category and human_category
        (0 output_1, 1 tie, 2 output_2: the confusion matrix's row and column), calibration_bin.
    """
    import pandas as pd

    from tiebreak.core.metrics.agreement import categories
    from tiebreak.core.review.compare import calibration_bins

    return pd.DataFrame({
        "comparison_id": pairs["comparison_id"].astype(int).to_numpy(),
        "dataset": pairs["dataset"].fillna(NO_DATASET).astype(str).to_numpy(),
        "judge_category": categories(pairs["judge_pref"]).astype(int),
        "human_category": categories(pairs["human_pref"]).astype(int),
        "calibration_bin": calibration_bins(pairs["judge_pref"], bins).astype(int),
    })  # fmt: skip


def items_of(snapshot: DashboardSnapshot, **where: object) -> list[int]:
    """Ids of the paired comparisons matching every ``column=value`` of :func:`paired_items`, sorted.

    For example ``items_of(snap, judge_category=2, human_category=0)`` is the confusion cell
    "judge says output_2, humans say output_1"; ``items_of(snap, dataset="koala")`` a dataset bar.

    Raises
    ------
    ValueError
        For a column :func:`paired_items` does not have.
    """
    items = snapshot.items
    if items is None or items.empty:
        return []
    unknown = sorted(set(where) - set(items.columns))
    if unknown:
        raise ValueError(f"items_of: unknown column(s) {', '.join(unknown)}")
    keep = items
    for column, value in where.items():
        keep = keep[keep[column] == value]
    return sorted(int(c) for c in keep["comparison_id"])


def summarise(frame: pd.DataFrame, judge: str, humans: str) -> DashboardSnapshot:
    """All figures from :func:`read_labels` output (pure computation; safe off the GUI thread)."""
    from tiebreak.core.review.compare import compare, paired_labels

    pairs = paired_labels(frame, judge, humans)
    return DashboardSnapshot(judge, humans, agreement_of(frame, judge, humans), compare(pairs),
                             paired_items(pairs))  # fmt: skip


def snapshot_at(path: str | Path, judge: str, humans: str) -> DashboardSnapshot:
    """Open the database at ``path`` on this thread, read and summarise, close (for a worker thread)."""
    from tiebreak.core.store import Store

    store = Store(path)
    try:
        frame = read_labels(store, judge, humans)
    finally:
        store.close()
    return summarise(frame, judge, humans)
