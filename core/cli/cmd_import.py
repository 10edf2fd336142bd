"""``tiebreak import``: add AlpacaEval outputs, annotations or cross-annotations to the database."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tiebreak.core.cli import CliError, add_db_argument, open_store, refresh_lc
from tiebreak.core.formats import FORMATS, FormatError
from tiebreak.core.formats.importer import import_files
from tiebreak.core.text_safety import terminal_safe

if TYPE_CHECKING:
    from tiebreak.core.formats.importer import Progress


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``import`` subcommand."""
    p = sub.add_parser(
        "import",
        help="import AlpacaEval files, CSV, JSONL, Parquet, Arena battles, MT-Bench judgments, HF "
        "preference rows, Label Studio and Argilla exports (detected by content)",
        description="Import files in one transaction: a bad record aborts the whole import and "
        "leaves the database unchanged. Importing the same data again adds nothing.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files to import (.json, .jsonl, .csv, .parquet; optionally .gz)")
    p.add_argument("--format", choices=FORMATS, help="force the format (default: detected)")
    p.add_argument("--generator-1", metavar="NAME",
                   help="reference generator (output_1) for records that do not name it")  # fmt: skip
    p.add_argument("--generator-2", metavar="NAME",
                   help="generator of output_2 for records that do not name it")  # fmt: skip
    p.add_argument("--annotator", metavar="NAME",
                   help="annotator group for records that do not name it (e.g. humans)")  # fmt: skip
    add_db_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Import the files and print what each one added."""
    from tiebreak.core.formats.shapes import HINT

    store = open_store(args.db, create=args.create)
    db = store.path
    try:
        defaults = {"generator_1": args.generator_1, "generator_2": args.generator_2,
                    "annotator": args.annotator}  # fmt: skip
        report = import_files(store, args.paths, args.format, defaults, progress=_progress_printer())
        if sys.stderr.isatty():
            print(file=sys.stderr)  # end the progress line
        # committed: the next leaderboard should not pay the refit (never fails the import)
        refreshed = refresh_lc(store) if report.added else None
    except FormatError as exc:
        hint = f" (give it with {HINT[exc.field]})" if exc.field in HINT and exc.problem == "missing" else ""
        raise CliError(f"{exc}{hint}\nnothing was imported; the database is unchanged") from exc
    finally:
        store.close()
    for f in report.files:
        print(terminal_safe(f.summary()))
    new = ", ".join(f"{n} {t}" for t, n in report.new.items() if n) or "nothing new"
    print(f"total: {report.records} records read; added {new} (database: {db})")
    if refreshed is not None:
        print(refreshed, file=sys.stderr)
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
