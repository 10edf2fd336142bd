"""The ``tiebreak`` command line: one ``cmd_*`` module per subcommand, discovered here."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tiebreak import __version__

if TYPE_CHECKING:
    from tiebreak.core.store import Store


from tiebreak.core.errors import TiebreakError
from tiebreak.core.text_safety import SafeWriter, terminal_safe


class CliError(TiebreakError):
    """A user-facing error: printed as ``tiebreak: error: ...`` with exit status 2."""


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """The shared ``--db PATH`` option (default: $TIEBREAK_DB, else the user's data directory)."""
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="SQLite database (default: $TIEBREAK_DB, else tiebreak.sqlite in the user data dir)",
    )


def open_store(db_arg: str | None) -> Store:
    """Open ``--db`` (else $TIEBREAK_DB, else the data directory) the way every command does.

    A new database is created and loaded with the bundled sample; a database that cannot be
    opened becomes a :class:`CliError` naming it.
    """
    from tiebreak.core.paths import default_db_path
    from tiebreak.core.sample import open_database
    from tiebreak.core.store import StoreError

    try:
        return open_database(default_db_path(db_arg))
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
    stdout = sys.stdout
    sys.stdout = SafeWriter(stdout)  # imported names cannot drive the terminal
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"tiebreak: error: {terminal_safe(exc, keep_lines=True)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tiebreak: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout.flush()
        sys.stdout = stdout
