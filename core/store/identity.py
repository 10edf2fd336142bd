"""Recognise a Tiebreak database before writing a byte: application id, schema generation, checks."""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from tiebreak.core.store.errors import (
    CorruptDatabase,
    NewerDatabase,
    NoDatabase,
    NotTiebreakDatabase,
    ReadOnlyDatabase,
)

__all__ = [
    "APPLICATION_ID", "MIGRATION_SET", "QUICK_CHECK_MAX_BYTES", "SQLITE_HEADER", "FileState",
    "examine", "is_sqlite_file", "quick_check", "require_known", "require_sound",
]  # fmt: skip

#: SQLite ``PRAGMA application_id`` of every Tiebreak database: the bytes "TieB".
APPLICATION_ID = 0x54696542
#: The sqlite-utils migration set that older Tiebreak versions recorded (before the id existed).
MIGRATION_SET = "tiebreak"
#: ``PRAGMA quick_check`` runs on every open of a file up to this size (a full check on demand).
QUICK_CHECK_MAX_BYTES = 8 * 1024 * 1024  # about 50 ms; larger files are checked before an import
SQLITE_HEADER = b"SQLite format 3\x00"
#: Tables that every Tiebreak schema has (recognises a database made before the id was stamped).
_CORE_TABLES = frozenset({"texts", "instructions", "outputs", "comparisons", "annotators", "annotations"})


@dataclass(frozen=True)
class FileState:
    """What :func:`examine` found: ``kind`` is 'missing', 'blank' (empty SQLite) or 'tiebreak'."""

    kind: str
    user_version: int = 0
    stamped: bool = False


def is_sqlite_file(path: Path) -> bool:
    """True when ``path`` is a regular file that starts with the SQLite header."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def examine(path: Path, *, create: bool, generation: int, known: set[str] | None = None) -> FileState:
    """Decide, with a read-only look, whether ``path`` may be opened read-write as a Tiebreak database.

    Raises
    ------
    NoDatabase
        Missing file (without ``create``) or missing folder.
    NotTiebreakDatabase
        Not a regular file, not SQLite, empty (without ``create``) or another program's SQLite file.
    NewerDatabase
        A Tiebreak database of a newer schema generation than ``generation``.
    ReadOnlyDatabase, CorruptDatabase
        The file or its folder cannot be written; the file cannot be read as SQLite.
    """
    if not path.parent.is_dir():
        raise NoDatabase(f"database {path}: the folder {path.parent} does not exist")
    try:
        st = path.stat()
    except FileNotFoundError:
        if not create:
            raise NoDatabase(f"no database at {path} (use --create to make a new one)") from None
        _require_writable(path.parent, f"database {path}: cannot create it, the folder is read-only")
        return FileState("missing")
    if not stat.S_ISREG(st.st_mode):
        raise NotTiebreakDatabase(f"{path} is not a regular file, so not a Tiebreak database")
    _require_writable(path, f"database {path} is read-only (no write permission)")
    _require_writable(path.parent, f"database {path}: its folder is read-only (SQLite needs it)")
    if st.st_size == 0:
        if not create:
            raise NotTiebreakDatabase(f"{path} is an empty file, not a Tiebreak database "
                                      "(use --create to make a new database there)")  # fmt: skip
        return FileState("blank")
    header = _header(path)
    if header is None:
        raise NotTiebreakDatabase(f"{path} is not a SQLite database, so not a Tiebreak database; "
                                  "it was not changed")  # fmt: skip
    app_id, version = header
    if app_id == APPLICATION_ID:  # ours: the rest is checked on the connection, before any write
        if version > generation:
            raise NewerDatabase(_newer(path, version, generation, []))
        return FileState("tiebreak", version, stamped=True)
    return _inspect(path, create=create, generation=generation, known=known)


def _header(path: Path) -> tuple[int, int] | None:
    """(application id, user version) from the file header; None when it is not SQLite.

    The header in the file may lag behind pages still in the ``-wal``, so a stamped file is
    verified again with :func:`require_known` on the connection, before anything is written.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except OSError:
        return None
    if len(head) < 100 or not head.startswith(SQLITE_HEADER):
        return None
    return int.from_bytes(head[68:72], "big", signed=True), int.from_bytes(head[60:64], "big", signed=True)


def _newer(path: Path, version: int, generation: int, unknown: list[str]) -> str:
    return (f"database {path} was written by a newer Tiebreak (schema generation {version}; "
            f"this Tiebreak knows generations up to {generation}"
            + (f"; unknown migrations: {', '.join(unknown)}" if unknown else "")
            + "): open it with that version or a later one; it was not changed")  # fmt: skip


def require_known(conn: sqlite3.Connection, path: Path | None, *, generation: int, known: set[str]) -> None:
    """Raise :class:`NewerDatabase` when the schema on ``conn`` is newer than this Tiebreak's.

    Only reads: run it before the first write of an open.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'").fetchone()  # fmt: skip
    applied = [] if not has_table else [r[0] for r in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATION_SET,))]  # fmt: skip
    unknown = sorted(set(applied) - known)
    if version > generation or unknown:
        raise NewerDatabase(_newer(path or Path(":memory:"), version, generation, unknown))


def _require_writable(path: Path, message: str) -> None:
    if not os.access(path, os.W_OK):
        raise ReadOnlyDatabase(message)


def _inspect(path: Path, *, create: bool, generation: int, known: set[str] | None) -> FileState:
    """Read the application id, user version and tables through a read-only connection."""
    # immutable: no lock, no -shm; only when no -wal holds newer pages than the file itself
    immutable = "" if Path(f"{path}-wal").exists() else "&immutable=1"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro{immutable}", uri=True)
    except sqlite3.Error as exc:
        raise CorruptDatabase(f"database {path} cannot be read: {exc}") from exc
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        applied = [] if "_sqlite_migrations" not in tables else [r[0] for r in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATION_SET,))]  # fmt: skip
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabase(f"database {path} cannot be read (corrupt?): {exc}") from exc
    finally:
        conn.close()
    ours_before_id = bool(applied) and _CORE_TABLES <= tables
    if app_id == APPLICATION_ID or (app_id == 0 and ours_before_id):
        unknown = sorted(set(applied) - known) if known is not None else []
        if version > generation or (app_id == APPLICATION_ID and unknown):
            raise NewerDatabase(_newer(path, version, generation, unknown))
        return FileState("tiebreak", version, stamped=app_id == APPLICATION_ID)
    if app_id == 0 and not tables and create:
        return FileState("blank")
    owner = f"application id 0x{app_id & 0xFFFFFFFF:08x}" if app_id else "no Tiebreak application id"
    shown = ", ".join(sorted(tables)[:6]) + (", ..." if len(tables) > 6 else "")
    raise NotTiebreakDatabase(
        f"{path} is a SQLite database but not a Tiebreak database ({owner}; tables: {shown or 'none'}); "
        "it was not changed"
    )


def quick_check(conn: sqlite3.Connection, path: Path | None, *, full: bool = False) -> list[str]:
    """Problems SQLite's ``quick_check`` (or ``integrity_check`` and foreign keys with ``full``) finds.

    Returns an empty list for a sound database; a database that cannot even be read raises.
    """
    pragma = "integrity_check" if full else "quick_check"
    try:
        problems = [line for r in conn.execute(f"PRAGMA {pragma}") for line in str(r[0]).splitlines() if line]
        if problems == ["ok"]:
            problems = []
        if full:
            problems += [f"foreign key: {r[0]} row {r[1]} -> {r[2]}"
                         for r in conn.execute("PRAGMA foreign_key_check")]  # fmt: skip
    except sqlite3.DatabaseError as exc:
        raise CorruptDatabase(f"database {path}: cannot be checked (corrupt?): {exc}") from exc
    return problems


def require_sound(conn: sqlite3.Connection, path: Path | None, *, full: bool = False) -> None:
    """Raise :class:`CorruptDatabase` when :func:`quick_check` finds a problem."""
    problems = quick_check(conn, path, full=full)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CorruptDatabase(f"database {path} fails its integrity check: {problems[0]}{more}")
