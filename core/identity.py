"""The identity of a database: a random id made with it (copies of the file share it)."""

from __future__ import annotations

from tiebreak.core.store import Store, StoreError

__all__ = ["database_id"]


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
