"""The store: the SQLite connection, its migrations and the unit of work (features own their SQL)."""

from tiebreak.core.store.connection import (
    BUSY_TIMEOUT_MS,
    INTERACTIVE_BUSY_TIMEOUT_MS,
    Store,
    schema_generation,
)
from tiebreak.core.store.errors import (
    CorruptDatabase,
    DatabaseBusy,
    DiskFull,
    NewerDatabase,
    NoDatabase,
    NotTiebreakDatabase,
    ReadOnlyDatabase,
    StoreError,
    UnknownName,
)
from tiebreak.core.store.identity import APPLICATION_ID
from tiebreak.core.store.transaction import Transaction
from tiebreak.core.store.util import text_sha1, utcnow

__all__ = [
    "APPLICATION_ID", "BUSY_TIMEOUT_MS", "INTERACTIVE_BUSY_TIMEOUT_MS", "CorruptDatabase", "DatabaseBusy", "DiskFull", "NewerDatabase", "NoDatabase",
    "NotTiebreakDatabase", "ReadOnlyDatabase", "Store", "StoreError", "Transaction", "UnknownName",
    "schema_generation", "text_sha1", "utcnow",
]  # fmt: skip
