"""Human annotator groups and their labels, as the Annotators screen reads them."""

from __future__ import annotations

import pandas as pd

from tiebreak.core.store import Store

__all__ = ["group_labels", "labelled_human_groups"]


def labelled_human_groups(store: Store) -> list[str]:
    """Names of the human groups that have at least one label."""
    return [g["group"] for g in store.groups() if g["kind"] == "human" and g["annotations"]]


def group_labels(store: Store, group: str) -> pd.DataFrame:
    """Every live label of ``group`` (``Store.annotations_frame`` columns, without texts)."""
    return store.annotations_frame(groups=[group], with_texts=False)
