"""What the Browse screen reads: the filters' choices and the list of rows (the screen never touches SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiebreak.core.browse import sql as browse_sql
from tiebreak.core.browse.items import BrowseCursor
from tiebreak.core.domain import Pair
from tiebreak.core.store import Store

__all__ = ["BrowseStart", "browse_start", "browse_start_at", "filter_choices", "list_rows"]


def filter_choices(store: Store) -> tuple[list[str], list[str], list[str]]:
    """(candidate models, annotator groups, datasets) to filter the comparisons by."""
    return browse_sql.candidate_generators(store), browse_sql.group_names(store), browse_sql.datasets(store)


def list_rows(store: Store, f: Any) -> Any:
    """The summary rows of the comparisons that pass the filter ``f`` (see ``browse.sql.list_rows``)."""
    return browse_sql.list_rows(store, f)


@dataclass(frozen=True)
class BrowseStart:
    """What Browse needs before it shows its first item: the filters' choices and the ids under ``filter``."""

    choices: tuple[list[str], list[str], list[str]]
    filter: browse_sql.BrowseFilter
    ids: list[int]
    first: Pair | None  # the first comparison's texts (e.g. to prepare their rendering); None: no ids


def browse_start(store: Store, f: browse_sql.BrowseFilter) -> BrowseStart:
    """The filters' choices and the comparison ids under ``f`` (raises ``BrowseError`` for an unknown name)."""
    cursor = BrowseCursor(store, f=f)
    first = store.pair(cursor.ids[0]) if cursor.ids else None
    return BrowseStart(filter_choices(store), cursor.filter, cursor.ids, first)


def browse_start_at(path: str | Path, f: browse_sql.BrowseFilter) -> BrowseStart:
    """:func:`browse_start` on a connection of its own to ``path`` (for a worker thread)."""
    from tiebreak.core.sample import open_database

    store = open_database(path)
    try:
        return browse_start(store, f)
    finally:
        store.close()
