"""What the Browse filters offer: candidate models and annotator groups."""

from __future__ import annotations

from tiebreak.core.browse import sql as browse_sql
from tiebreak.core.store import Store

__all__ = ["filter_choices"]


def filter_choices(store: Store) -> tuple[list[str], list[str]]:
    """(candidate models, annotator groups) to filter the comparisons by."""
    return browse_sql.candidate_generators(store), [g["group"] for g in store.groups()]
