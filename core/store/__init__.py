"""The store: the SQLite connection, its migrations and the unit of work (features own their SQL)."""

from tiebreak.core.store.connection import Store, StoreError, UnknownName, text_sha1, utcnow

__all__ = ["Store", "StoreError", "UnknownName", "text_sha1", "utcnow"]
