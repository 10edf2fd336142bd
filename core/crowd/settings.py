"""The coordinator's "show pooled statistics to labellers" setting, as crowd code names it.

There is one setting, kept in ``database_info`` by :mod:`tiebreak.core.identity` (the labelling
screen reads it there); these names only forward to it.
"""

from __future__ import annotations

from tiebreak.core.identity import pooled_statistics_shown
from tiebreak.core.identity import show_pooled_statistics as _set
from tiebreak.core.store import Store

__all__ = ["show_pooled_statistics", "set_show_pooled_statistics"]


def show_pooled_statistics(store: Store) -> bool:
    """True when the coordinator lets labellers see pooled win rates and judge agreement (off by default)."""
    return pooled_statistics_shown(store)


def set_show_pooled_statistics(store: Store, on: bool) -> None:
    """Turn the setting on or off (one transaction)."""
    _set(store, on)
