"""The database's own facts: its random identity and the coordinator's settings (``database_info``)."""

from __future__ import annotations

from tiebreak.core.store import Store, StoreError

__all__ = ["POOLED_STATISTICS", "database_id", "pooled_statistics_shown", "show_pooled_statistics"]

#: Setting: labellers see pooled win rates and judge agreement while labelling (off by default).
POOLED_STATISTICS = "labelling.pooled_statistics"


def database_id(store: Store) -> str:
    """The database's random id (32 hex digits), made once when the database was created.

    Raises
    ------
    StoreError
        The database has no id (its schema was not migrated by Tiebreak).
    """
    row = store.conn.execute("SELECT value FROM database_info WHERE key = 'id'").fetchone()
    if row is None:
        raise StoreError(f"the database {store.path or ':memory:'} has no id (database_info is empty)")
    return str(row[0])


def pooled_statistics_shown(store: Store) -> bool:
    """Whether labellers see pooled statistics (everyone's win rates, judge agreement).

    Off unless a coordinator turned it on: a labeller sees only their own progress, so other
    annotators' labels and the judge cannot anchor them.
    """
    row = store.conn.execute("SELECT value FROM database_info WHERE key = ?", (POOLED_STATISTICS,)).fetchone()
    return row is not None and row[0] == "on"


def show_pooled_statistics(store: Store, on: bool) -> None:
    """Turn pooled statistics for labellers on or off (a coordinator's setting, kept in the database)."""
    with store.transaction() as tx:
        tx.execute(
            """INSERT INTO database_info (key, value) VALUES (?, ?)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value""",
            (POOLED_STATISTICS, "on" if on else "off"),
        )
