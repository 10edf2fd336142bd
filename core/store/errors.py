"""Store errors: every database failure a user can meet, as a one-line TiebreakError."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tiebreak.core.errors import TiebreakError

__all__ = [
    "CorruptDatabase", "DatabaseBusy", "DiskFull", "NewerDatabase", "NoDatabase",
    "NotTiebreakDatabase", "ReadOnlyDatabase", "StoreError", "UnknownName", "translate",
]  # fmt: skip


class StoreError(TiebreakError):
    """A database operation could not be carried out."""


class UnknownName(StoreError, KeyError):
    """A generator, annotator or group name that the database does not hold."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class NoDatabase(StoreError):
    """The named database does not exist (and creating it was not asked for)."""


class NotTiebreakDatabase(StoreError):
    """The file is not a Tiebreak database (another program's SQLite file, not SQLite, empty)."""


class NewerDatabase(StoreError):
    """The database was written by a newer Tiebreak (its schema generation is unknown here)."""


class ReadOnlyDatabase(StoreError):
    """The database (or its folder) cannot be written."""


class CorruptDatabase(StoreError):
    """The database fails SQLite's integrity check or cannot be read as a database."""


class DiskFull(StoreError):
    """The disk (or the database's size limit) is full: the unit of work was rolled back."""


class DatabaseBusy(StoreError):
    """Another program holds the database's write lock for longer than the busy timeout."""


_BY_CODE: dict[str, tuple[type[StoreError], str]] = {
    "SQLITE_FULL": (DiskFull, "the disk is full"),
    "SQLITE_READONLY": (ReadOnlyDatabase, "the database is read-only"),
    "SQLITE_CORRUPT": (CorruptDatabase, "the database is corrupt"),
    "SQLITE_NOTADB": (CorruptDatabase, "the file is not a database (or is corrupt)"),
    "SQLITE_BUSY": (DatabaseBusy, "the database is locked by another program"),
    "SQLITE_LOCKED": (DatabaseBusy, "the database is locked"),
    "SQLITE_IOERR": (StoreError, "input/output error"),
    "SQLITE_CANTOPEN": (StoreError, "cannot open the database file"),
    "SQLITE_PERM": (ReadOnlyDatabase, "permission denied"),
}


def translate(exc: BaseException, path: Path | None) -> StoreError | None:
    """The :class:`StoreError` for an SQLite failure of the database at ``path`` (None: not one).

    Only failures of the database itself are translated (disk full, read-only, corrupt, locked,
    I/O); a constraint violation or an SQL mistake is a bug and is left as it is.
    """
    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) or isinstance(
        exc, sqlite3.IntegrityError | sqlite3.ProgrammingError
    ):
        return None
    name = getattr(exc, "sqlite_errorname", "") or ""
    base = name.split("_", 2)
    key = "_".join(base[:2]) if len(base) >= 2 else name
    found = _BY_CODE.get(key)
    if found is None:
        text = str(exc).lower()
        for needle, code in (("disk is full", "SQLITE_FULL"), ("readonly", "SQLITE_READONLY"),
                             ("malformed", "SQLITE_CORRUPT"), ("not a database", "SQLITE_NOTADB"),
                             ("locked", "SQLITE_BUSY")):  # fmt: skip
            if needle in text:
                found = _BY_CODE[code]
                break
    if found is None:
        return None
    cls, what = found
    where = "in-memory database" if path is None else f"database {path}"
    return cls(f"{where}: {what} ({exc})")
