"""The Human-vs-judge dashboard's snapshot: the one *agreement* beside the figures of ``compare``.

``agreement`` here is the metric of that name everywhere (``tiebreak.core.metrics.consensus``,
docs/metrics.md): the labelling panel and the dashboard feed the same accumulator, so they show
the same number for the same items. The category match ``compare`` computes is shown under its
own name, *raw agreement*. Reading and computing are split so the GUI can run both off its
thread (:func:`snapshot_at` opens its own connection).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tiebreak.core.metrics.consensus import Agreement, AgreementAccumulator

if TYPE_CHECKING:
    import pandas as pd

    from tiebreak.core.review.compare import Comparison
    from tiebreak.core.store import Store

__all__ = ["DashboardSnapshot", "agreement_of", "read_labels", "summarise", "snapshot_at"]


@dataclass(frozen=True)
class DashboardSnapshot:
    """Every dashboard figure for one judge group against one human group."""

    judge: str
    humans: str
    agreement: Agreement | None  # None: no comparison labelled by both
    comparison: Comparison


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


def read_labels(store: Store, judge: str, humans: str) -> pd.DataFrame:
    """The live labels of both groups, without texts (what :func:`summarise` needs)."""
    return store.annotations_frame(groups=[judge, humans], with_texts=False)


def summarise(frame: pd.DataFrame, judge: str, humans: str) -> DashboardSnapshot:
    """All figures from :func:`read_labels` output (pure computation; safe off the GUI thread)."""
    from tiebreak.core.review.compare import compare, paired_labels

    return DashboardSnapshot(judge, humans, agreement_of(frame, judge, humans),
                             compare(paired_labels(frame, judge, humans)))  # fmt: skip


def snapshot_at(path: str | Path, judge: str, humans: str) -> DashboardSnapshot:
    """Open the database at ``path`` on this thread, read and summarise, close (for a worker thread)."""
    from tiebreak.core.store import Store

    store = Store(path)
    try:
        frame = read_labels(store, judge, humans)
    finally:
        store.close()
    return summarise(frame, judge, humans)
