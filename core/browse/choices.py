"""What the Browse screen reads: the filters' choices and the list of rows (the screen never touches SQL)."""

from __future__ import annotations

from typing import Any

from tiebreak.core.browse import sql as browse_sql
from tiebreak.core.store import Store

__all__ = ["filter_choices", "list_rows"]


def filter_choices(store: Store) -> tuple[list[str], list[str], list[str]]:
    """(candidate models, annotator groups, datasets) to filter the comparisons by."""
    return browse_sql.candidate_generators(store), browse_sql.group_names(store), browse_sql.datasets(store)


def list_rows(store: Store, f: Any) -> Any:
    """The summary rows of the comparisons that pass the filter ``f`` (see ``browse.sql.list_rows``)."""
    return browse_sql.list_rows(store, f)
