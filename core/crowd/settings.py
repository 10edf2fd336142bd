"""Coordinator settings stored in the database (``crowd_settings``), e.g. what labellers may see."""

from __future__ import annotations

from tiebreak.core.store import Store

__all__ = ["SHOW_POOLED_STATISTICS", "show_pooled_statistics", "set_show_pooled_statistics"]

#: Key of the setting "show pooled statistics (win rates, judge agreement) to labellers".
SHOW_POOLED_STATISTICS = "show_pooled_statistics"


def show_pooled_statistics(store: Store) -> bool:
    """True when the coordinator lets labellers see pooled win rates and judge agreement.

    Off by default (blind labelling): a database that never stored the setting returns False.
    """
    row = store.conn.execute("SELECT value FROM crowd_settings WHERE key = ?", (SHOW_POOLED_STATISTICS,)).fetchone()
    return row is not None and row[0] == "1"


def set_show_pooled_statistics(store: Store, on: bool) -> None:
    """Turn the setting on or off (one transaction)."""
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO crowd_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (SHOW_POOLED_STATISTICS, "1" if on else "0"),
        )
