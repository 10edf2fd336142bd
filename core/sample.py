"""Opening and creating databases, and the bundled AlpacaEval sample (loaded only on request)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tiebreak.core.paths import sample_path
from tiebreak.core.store import INTERACTIVE_BUSY_TIMEOUT_MS, Store, StoreError

if TYPE_CHECKING:  # the readers and the importer load with the sample only: opening a database is light
    from tiebreak.core.formats.importer import ImportReport

__all__ = ["CHECKPOINT_BUSY_CHANGES", "CHECKPOINT_CHANGES", "SAMPLE_FILE", "checkpoint_due", "create_database", "load_sample", "open_database", "open_interactive", "sample_file"]

SAMPLE_FILE = ("sample", "annotations.json.gz")
#: An interactive connection's write-ahead log is copied into the database (off the GUI thread)
#: after this many changes once the user pauses: a label adds about 35 KB to the log, so about
#: SQLite's own auto-checkpoint point (1,000 pages of 4 KiB) ...
CHECKPOINT_CHANGES = 100
#: ... or after this many even while changes keep coming without a pause (about 70 MB of log).
CHECKPOINT_BUSY_CHANGES = 2000


def sample_file() -> Path:
    """Path of the bundled sample (AlpacaEval annotations, gzip; see data/SOURCE.md)."""
    return sample_path(*SAMPLE_FILE)


def load_sample(store: Store) -> ImportReport:
    """Import the bundled sample into ``store`` (adds nothing when already loaded).

    Parameters
    ----------
    store : Store

    Returns
    -------
    ImportReport
        The report of the import (one file, format ``alpaca-eval``).
    """
    from tiebreak.core.formats import read_file
    from tiebreak.core.formats.importer import import_parsed

    return import_parsed(store, [read_file(sample_file(), "alpaca-eval")])


def open_database(path: str | Path | None, *, create: bool = False, sample: bool = False) -> Store:
    """Open the Tiebreak database at ``path`` (migrating it to head).

    Parameters
    ----------
    path : str or Path or None
        The SQLite file; None or ``":memory:"`` gives an in-memory database.
    create : bool
        Create the file when it does not exist (its folder must exist); never implicit for a
        database the user named.
    sample : bool
        Load the bundled sample when the database holds no comparisons yet (the app does this
        for its default database on first launch; ``tiebreak demo`` on request). Default False.

    Returns
    -------
    Store

    Raises
    ------
    StoreError
        A subclass saying why: NoDatabase, NotTiebreakDatabase, NewerDatabase,
        ReadOnlyDatabase, CorruptDatabase, DiskFull; the file is left unchanged.
    """
    store = Store(path, create=create) if path is not None and str(path) != ":memory:" else Store(memory=True)
    if sample and store.is_new():
        try:
            load_sample(store)
        except BaseException:
            store.close()
            raise
    return store


def open_interactive(store: Store) -> Store:
    """A second connection to ``store``'s file for a GUI thread: its writes wait only briefly.

    A unit of work on it raises :class:`~tiebreak.core.store.DatabaseBusy` (nothing written)
    after ``INTERACTIVE_BUSY_TIMEOUT_MS`` when another program (an import, a merge) holds the
    write lock, so a key press never freezes the window; the caller keeps the operation and
    retries; it leaves checkpoints to the other connections (a commit after a big import would
    otherwise copy the import's whole log on the GUI thread): the app copies the log on another
    connection, off the GUI thread, when :func:`checkpoint_due` says so. An in-memory database has
    no other writer: ``store`` itself is returned.

    Parameters
    ----------
    store : Store
        The open (and already checked and migrated) database.

    Returns
    -------
    Store
        The interactive connection (close it when done, unless it is ``store``).
    """
    if store.path is None:
        return store
    return Store(store.path, check=False, busy_timeout_ms=INTERACTIVE_BUSY_TIMEOUT_MS, checkpoint=False)


def checkpoint_due(changes: int, *, idle: bool) -> bool:
    """True when an interactive connection's write-ahead log should be copied into the database now.

    ``changes``: units of work committed on it since its log was last copied. The interactive
    connection never checkpoints (see :func:`open_interactive`): without a copy on another
    connection a long labelling session grows the log by about 35 KB a label (10,000 labels:
    about 350 MB) until the app closes. While the user is ``idle`` (between votes) the log is
    copied from :data:`CHECKPOINT_CHANGES`; while changes keep coming, only from
    :data:`CHECKPOINT_BUSY_CHANGES` (a copy running beside a key press made that press wait up to
    10 ms). Counted, not measured: the file keeps its size after a copy (SQLite reuses it).
    """
    return changes >= (CHECKPOINT_CHANGES if idle else CHECKPOINT_BUSY_CHANGES)


def create_database(path: str | Path) -> Store:
    """Create a new, empty Tiebreak database at ``path`` (the app's New…); never replaces a file.

    Raises
    ------
    StoreError
        ``path`` already exists (open it instead), or its folder is missing or read-only.
    """
    target = Path(path)
    if target.exists() or target.is_symlink():
        raise StoreError(f"{target} already exists: open it, or choose another name for a new database")
    return Store(target, create=True)
