"""Human annotator groups and their labels, as the Annotators screen reads them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tiebreak.core.crowd.quality import CrowdError, CrowdReport, crowd_report
from tiebreak.core.store import Store

__all__ = ["AnnotatorsSnapshot", "annotators_snapshot", "annotators_snapshot_at", "group_labels",
           "labelled_human_groups"]  # fmt: skip

NO_GROUP = "No human annotator group has labels yet."


def labelled_human_groups(store: Store) -> list[str]:
    """Names of the human groups that have at least one label."""
    return [g["group"] for g in store.groups() if g["kind"] == "human" and g["annotations"]]


def group_labels(store: Store, group: str) -> pd.DataFrame:
    """Every live label of ``group`` (``Store.annotations_frame`` columns, without texts)."""
    return store.annotations_frame(groups=[group], with_texts=False)


@dataclass(frozen=True)
class AnnotatorsSnapshot:
    """What the Annotators screen shows: the groups, the one chosen, its report or why there is none."""

    groups: list[str]
    group: str  # "" when no group has labels
    report: CrowdReport | None
    message: str  # why there is no report ("" when there is one)


def annotators_snapshot(store: Store, group: str, overlap: int, too_fast: float) -> AnnotatorsSnapshot:
    """The groups and the crowd report of ``group`` (the first labelled group when it has no labels).

    Parameters
    ----------
    store : Store
        The database.
    group : str
        The group asked for ("" or an unknown name: the first group with labels).
    overlap, too_fast : int, float
        Passed to :func:`tiebreak.core.crowd.quality.crowd_report`.
    """
    groups = labelled_human_groups(store)
    chosen = group if group in groups else (groups[0] if groups else "")
    if not chosen:
        return AnnotatorsSnapshot(groups, "", None, NO_GROUP)
    try:
        report = crowd_report(group_labels(store, chosen), chosen, overlap=overlap, too_fast=too_fast)
    except CrowdError as exc:
        return AnnotatorsSnapshot(groups, chosen, None, str(exc))
    return AnnotatorsSnapshot(groups, chosen, report, "")


def annotators_snapshot_at(path: str | Path, group: str, overlap: int, too_fast: float) -> AnnotatorsSnapshot:
    """:func:`annotators_snapshot` on a connection of its own to ``path`` (for a worker thread)."""
    from tiebreak.core.sample import open_database

    store = open_database(path)
    try:
        return annotators_snapshot(store, group, overlap, too_fast)
    finally:
        store.close()
