"""The connection that refuses to write outside a unit of work (a guard on every statement)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from tiebreak.core.store.errors import StoreError

__all__ = ["GuardedConnection", "WriteOutsideTransaction", "is_write"]

_LEAD = r"^\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*"
_WRITE = re.compile(
    _LEAD + r"(?:INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|VACUUM|REINDEX|ANALYZE|ATTACH|DETACH"
    r"|BEGIN|SAVEPOINT|RELEASE|COMMIT|END|ROLLBACK|WITH\b.*\b(?:INSERT|UPDATE|DELETE|REPLACE))\b",
    re.IGNORECASE | re.DOTALL,
)


class WriteOutsideTransaction(StoreError):
    """A statement that writes (or manages transactions) ran outside ``store.transaction()``."""


def is_write(sql: str) -> bool:
    """True for statements that change the database or its transaction state."""
    return _WRITE.match(sql) is not None


def _check(conn: GuardedConnection, sql: str) -> None:
    if not conn.writable and is_write(sql):
        head = " ".join(sql.split())[:60]
        raise WriteOutsideTransaction(
            f"write outside a unit of work refused ({head!r}): use `with store.transaction() as tx: tx.execute(...)`"
        )


class GuardedCursor(sqlite3.Cursor):
    """A cursor whose statements pass the connection's guard."""

    def execute(self, sql: str, parameters: Any = (), /) -> GuardedCursor:
        """Run one statement (refused when it writes outside a unit of work)."""
        _check(self.connection, sql)  # type: ignore[arg-type]
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq: Any, /) -> GuardedCursor:
        """Run one statement per parameter row (refused when it writes outside a unit of work)."""
        _check(self.connection, sql)  # type: ignore[arg-type]
        return super().executemany(sql, seq)

    def executescript(self, script: str, /) -> GuardedCursor:
        """Scripts always write or commit: refused outside a unit of work."""
        _check(self.connection, "BEGIN" if not self.connection.writable else script)  # type: ignore[attr-defined, arg-type]
        return super().executescript(script)  # type: ignore[return-value]


class GuardedConnection(sqlite3.Connection):
    """An sqlite3 connection (pandas and sqlite-utils take it as one) that writes only when told.

    ``writable`` is set by ``Store.transaction()`` for the length of the unit of work (and while
    the schema is migrated); any other write, ``BEGIN`` or ``COMMIT`` raises
    :class:`WriteOutsideTransaction` before it reaches SQLite.
    """

    writable: bool = False

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        """A guarded cursor (pandas reads through cursors)."""
        return super().cursor(factory or GuardedCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """Run one statement (refused when it writes outside a unit of work)."""
        _check(self, sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq: Any, /) -> sqlite3.Cursor:
        """Run one statement per parameter row (refused when it writes outside a unit of work)."""
        _check(self, sql)
        return super().executemany(sql, seq)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        """Scripts always write or commit: refused outside a unit of work."""
        _check(self, "BEGIN" if not self.writable else script)
        return super().executescript(script)

    def raw(self, sql: str) -> sqlite3.Cursor:
        """Run a statement of the store itself (BEGIN, COMMIT, ROLLBACK), past the guard."""
        return sqlite3.Connection.execute(self, sql)
