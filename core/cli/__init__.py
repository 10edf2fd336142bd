"""The ``tiebreak`` command line: a lazy registry of ``cmd_*`` modules and the one error boundary."""

from __future__ import annotations

import argparse
import importlib
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tiebreak.core.errors import TiebreakError
from tiebreak.core.text_safety import SafeWriter, terminal_safe

if TYPE_CHECKING:
    from tiebreak.core.store import Store

#: Every subcommand: name -> (module with ``register(sub)``, one-line help for ``tiebreak --help``).
#: A module is imported only when its command runs (or its own ``--help`` is asked for), so a
#: command module may import what it needs at its top (tests/core/test_cli_main.py checks
#: that this table and the ``cmd_*`` modules agree; a new command adds its line here).
COMMANDS: dict[str, tuple[str, str]] = {
    "agreement": (f"{__name__}.cmd_agreement", "judge metrics vs human cross-annotations (AlpacaEval evaluator columns)"),
    "annotators": (f"{__name__}.cmd_annotators", "annotator quality (agreement, Dawid-Skene, speed) and item overlap"),
    "check": (f"{__name__}.cmd_check", "run the full integrity check of the database"),
    "compare": (f"{__name__}.cmd_compare", "paired comparison of models on the same instructions"),
    "configs": (f"{__name__}.cmd_configs", "versions of a judge configuration and the diff between them"),
    "coordinator": (f"{__name__}.cmd_coordinator", "show or change what labellers see (pooled statistics)"),
    "demo": (f"{__name__}.cmd_demo", "load the bundled AlpacaEval sample (creates the database if needed)"),
    "evaluate": (f"{__name__}.cmd_evaluate", "import, pair, judge and print the leaderboard row (AlpacaEval's evaluate)"),
    "export": (f"{__name__}.cmd_export", "export annotations (alpaca-eval, cross-annotations, csv, jsonl)"),
    "import": (f"{__name__}.cmd_import", "import AlpacaEval files, CSV, JSONL, Parquet, Arena battles, MT-Bench judgments, HF preference rows, Label Studio and Argilla exports (detected by content)"),
    "info": (f"{__name__}.cmd_info", "show the database path, the log path and what the database holds"),
    "judge": (f"{__name__}.cmd_judge", "run an LLM judge over comparisons"),
    "leaderboard": (f"{__name__}.cmd_leaderboard", "model win rates vs a reference (AlpacaEval columns)"),
    "round": (f"{__name__}.cmd_round", "crowd rounds: assignment, annotator packs, merge, status, reissue"),
    "spotcheck": (f"{__name__}.cmd_spotcheck", "spot-check judge verdicts: audit samples, estimates, export"),
}  # fmt: skip

#: Exit statuses: a TiebreakError, a bug (see the log), Ctrl+C, stdout closed early (as SIGPIPE).
EXIT_ERROR, EXIT_BUG, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 2, 1, 130, 141


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


def add_exclude_argument(parser: argparse.ArgumentParser) -> None:
    """The shared ``--exclude WORKER`` option (repeatable; workers excluded in a crowd round are always left out)."""
    parser.add_argument(
        "--exclude", metavar="WORKER", action="append", default=[],
        help="leave out this annotator's labels (repeatable; workers removed from a crowd round are always left out)",
    )  # fmt: skip


def excluded(store: Store, names: list[str] | None) -> set[str]:
    """Checked ``--exclude`` names plus the workers removed from crowd rounds (CliError for unknown names)."""
    from tiebreak.core.crowd.selection import excluded_workers

    return excluded_workers(store, names)


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

    named = bool(db_arg) or bool(os.environ.get("TIEBREAK_DB"))
    return open_database(default_db_path(db_arg), create=create or not named)


def one_blas_thread() -> None:
    """Before numpy's first import in this short-lived process: one BLAS thread (see lc_fit._one_blas_thread);
    else OpenBLAS's start spins ~0.1 CPU s on other cores."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def refresh_lc(store: Store) -> str:
    """After a command's write committed: refit the default leaderboard's stale LC panels; the line to say.

    Never raises (``tiebreak.core.metrics.lc_refresh``), not even for ^C: a failure leaves the cache stale.
    """
    one_blas_thread()
    from tiebreak.core.metrics.lc_refresh import refresh_stale_lc

    try:
        return refresh_stale_lc(store).line()
    except KeyboardInterrupt:  # ^C during the refit: the write stands, only the refresh is abandoned
        return "leaderboard cache not refreshed (interrupted); the next leaderboard refits it"


class _VersionAction(argparse.Action):
    """``--version``: the version is read from the package metadata only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from tiebreak.core.version import version

        parser.exit(message=f"tiebreak {version()}\n")


def build_parser(
    extra: Callable[[argparse._SubParsersAction], None] | None = None, command: str | None = None
) -> argparse.ArgumentParser:
    """The parser: ``command``'s module is imported and registers its options, the rest are names.

    Parameters
    ----------
    extra : callable, optional
        Adds more subcommands first (the launcher adds ``gui``).
    command : str, optional
        The subcommand about to run; None imports no command module (``tiebreak --help``).
    """
    parser = argparse.ArgumentParser(
        prog="tiebreak",
        description="Tiebreak: pairwise LLM evaluation workbench (human labels, judge verdicts, "
        "AlpacaEval-exact metrics). Run without a command to open the app.",
    )
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if extra is not None:
        extra(sub)
    for name, (module, help_text) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(
    argv: Sequence[str] | None = None,
    extra: Callable[[argparse._SubParsersAction], None] | None = None,
) -> int:
    """Run one command and return its exit status (the CLI's one error boundary).

    A :class:`TiebreakError` is printed as ``tiebreak: error: MESSAGE`` (exit 2); any other
    exception is a bug: its traceback goes to the log and a short message says where (exit 1).
    A reader that closes stdout early (``tiebreak info | head -1``) ends the command quietly.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(extra, command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return run_guarded(args.func, args)


def run_guarded(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Call ``func(args)`` with logging set up; every failure becomes a message and an exit status."""
    from tiebreak.core.logs import log_unexpected, setup_logging

    log_file = setup_logging()
    stdout = sys.stdout
    sys.stdout = SafeWriter(stdout)  # imported names cannot drive the terminal
    try:
        return _guarded(func, args, log_file, log_unexpected)
    finally:
        sys.stdout = stdout


def _guarded(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace, log_file: object,
             log_unexpected: Callable[..., object]) -> int:  # fmt: skip
    """The error boundary itself: one line for an expected failure, the log for a bug."""
    try:
        status = int(func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except TiebreakError as exc:
        print(f"tiebreak: error: {terminal_safe(exc, keep_lines=True)}", file=sys.stderr)
        return EXIT_ERROR
    except sqlite3.Error as exc:  # a database failure outside a unit of work (a read)
        from tiebreak.core.store.errors import translate

        translated = translate(exc, None)
        if translated is None:
            log_unexpected(exc, f"tiebreak {args.command}")
            print(f"tiebreak: unexpected {type(exc).__name__}: {exc}\n"
                  f"tiebreak: this is a bug; the details are in the log {log_file}", file=sys.stderr)  # fmt: skip
            return EXIT_BUG
        print(f"tiebreak: error: {terminal_safe(translated, keep_lines=True)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tiebreak: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 (the boundary: a bug is logged, never a bare traceback)
        log_unexpected(exc, f"tiebreak {args.command}")
        print(f"tiebreak: unexpected {type(exc).__name__}: {exc}\n"
              f"tiebreak: this is a bug; the details are in the log {log_file}", file=sys.stderr)  # fmt: skip
        return EXIT_BUG


def _discard_stdout() -> None:
    """Point stdout at /dev/null: Python's final flush must not raise into a closed pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ is not None else 1)
    except (OSError, ValueError):  # no real file descriptor (captured in tests)
        pass
    finally:
        os.close(devnull)
