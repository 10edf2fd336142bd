"""The bundled AlpacaEval sample: open a database, loading the sample on first use."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tiebreak.core.formats import read_file
from tiebreak.core.formats.importer import ImportReport, import_parsed
from tiebreak.core.paths import sample_path
from tiebreak.core.store import Store, StoreError

__all__ = ["SAMPLE_FILE", "load_sample", "open_database", "sample_file"]

SAMPLE_FILE = ("sample", "annotations.json.gz")


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
    return import_parsed(store, [read_file(sample_file(), "alpaca-eval")])


def open_database(path: str | Path | None, *, sample: bool = True) -> Store:
    """Open (creating and migrating if needed) the database at ``path``.

    Parameters
    ----------
    path : str or Path or None
        The SQLite file; None or ``":memory:"`` gives an in-memory database.
    sample : bool
        Load the bundled sample when the database holds no comparisons yet and has never
        loaded it (default True).

    Returns
    -------
    Store

    Raises
    ------
    StoreError
        The file cannot be opened or is not a Tiebreak (SQLite) database.
    """
    try:
        store = Store(path) if path is not None and str(path) != ":memory:" else Store(memory=True)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from exc
    if sample and store.is_new():
        try:
            load_sample(store)
        except BaseException:
            store.close()
            raise
    return store
