"""``tiebreak import``: add AlpacaEval outputs, annotations or cross-annotations to the database."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tiebreak.core.cli import CliError, add_db_argument, open_store
from tiebreak.core.formats import FORMATS, FormatError
from tiebreak.core.formats.importer import import_files
from tiebreak.core.text_safety import terminal_safe

if TYPE_CHECKING:
    from tiebreak.core.formats.importer import Progress


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
        report = import_files(store, args.paths, args.format, progress=_progress_printer())
    except FormatError as exc:
        raise CliError(f"{exc}\nnothing was imported; the database is unchanged") from exc
    finally:
        store.close()
    if sys.stderr.isatty():
        print(file=sys.stderr)  # end the progress line
    for f in report.files:
        print(terminal_safe(f.summary()))
    new = ", ".join(f"{n} {t}" for t, n in report.new.items() if n) or "nothing new"
    print(f"total: {report.records} records read; added {new} (database: {db})")
    return 0


def _progress_printer() -> Callable[[Progress], None] | None:
    """A callback drawing one self-overwriting progress line on stderr (a terminal only)."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25 or p.done_bytes >= p.total_bytes:
            last[0] = now
            print(f"\r{terminal_safe(p.line())}\033[K", end="", file=sys.stderr, flush=True)

    return show
