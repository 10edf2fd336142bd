"""``tiebreak import``: add AlpacaEval outputs, annotations or cross-annotations to the database."""

from __future__ import annotations

import argparse

from tiebreak.core.cli import CliError, add_db_argument, open_store
from tiebreak.core.formats import FORMATS, FormatError
from tiebreak.core.formats.importer import import_files


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``import`` subcommand."""
    p = sub.add_parser(
        "import",
        help="import AlpacaEval files (model outputs, annotations, cross-annotations, CSV, JSONL)",
        description="Import files in one transaction: a bad record aborts the whole import and "
        "leaves the database unchanged. Importing the same data again adds nothing.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files to import (.json, .jsonl, .csv, optionally .gz)")
    p.add_argument("--format", choices=FORMATS, help="force the format (default: detected)")
    add_db_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import the files and print what each one added."""
    store = open_store(args.db, create=args.create)
    db = store.path
    try:
        report = import_files(store, args.paths, args.format)
    except FormatError as exc:
        raise CliError(f"{exc}\nnothing was imported; the database is unchanged") from exc
    finally:
        store.close()
    for f in report.files:
        print(f.summary())
    new = ", ".join(f"{n} {t}" for t, n in report.new.items() if n) or "nothing new"
    print(f"total: {report.records} records read; added {new} (database: {db})")
    return 0
