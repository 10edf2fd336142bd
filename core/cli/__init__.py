"""The ``tiebreak`` command line: one ``cmd_*`` module per subcommand, discovered here."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tiebreak import __version__

if TYPE_CHECKING:
    from tiebreak.core.store import Store


from tiebreak.core.errors import TiebreakError


class CliError(TiebreakError):
    """A user-facing error: printed as ``tiebreak: error: ...`` with exit status 2."""


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """The shared ``--db PATH`` and ``--create`` options (default: $TIEBREAK_DB, else the data directory)."""
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite database (default: $TIEBREAK_DB, else tiebreak.sqlite in the user data dir)",
    )
    parser.add_argument(
        "--create",
        action="store_true",
        help="create the database named by --db / $TIEBREAK_DB if it does not exist (never implicit)",
    )


def open_store(db_arg: str | None, *, create: bool = False) -> Store:
    """Open ``--db`` (else $TIEBREAK_DB, else the data directory) the way every command does.

    A database the user names (``--db``, ``TIEBREAK_DB``) must exist unless ``create``; the
    default database in the user data directory is created empty when missing. No command
    loads the bundled sample (``tiebreak demo`` does, on request). A database that cannot be
    opened (missing, not Tiebreak's, newer, read-only, corrupt) becomes a :class:`CliError`.
    """
    import os

    from tiebreak.core.paths import default_db_path
    from tiebreak.core.sample import open_database
    from tiebreak.core.store import StoreError

    named = bool(db_arg) or bool(os.environ.get("TIEBREAK_DB"))
    try:
        return open_database(default_db_path(db_arg), create=create or not named)
    except StoreError as exc:
        raise CliError(str(exc)) from exc


def build_parser(extra: Callable[[argparse._SubParsersAction], None] | None = None) -> argparse.ArgumentParser:
    """Parser with every discovered subcommand; ``extra`` lets the launcher add ``gui``."""
    parser = argparse.ArgumentParser(
        prog="tiebreak",
        description="Tiebreak: pairwise LLM evaluation workbench (human labels, judge verdicts, "
        "AlpacaEval-exact metrics). Run without a command to open the app.",
    )
    parser.add_argument("--version", action="version", version=f"tiebreak {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if extra is not None:
        extra(sub)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            module.register(sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    extra: Callable[[argparse._SubParsersAction], None] | None = None,
) -> int:
    """Run one command and return its exit status."""
    from tiebreak.core.lightimport import import_sqlite_utils_without_pandas

    import_sqlite_utils_without_pandas()  # the store without pandas: `tiebreak info` starts fast
    parser = build_parser(extra)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except TiebreakError as exc:  # every expected failure: one line, never a traceback
        print(f"tiebreak: error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # a database failure outside a unit of work (a read)
        from tiebreak.core.store.errors import translate

        translated = translate(exc, None)
        if translated is None:
            raise
        print(f"tiebreak: error: {translated}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tiebreak: interrupted", file=sys.stderr)
        return 130
