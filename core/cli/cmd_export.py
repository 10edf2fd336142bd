"""``tiebreak export``: write annotations as AlpacaEval annotations, cross-annotations, CSV or JSONL."""

from __future__ import annotations

import argparse

from tiebreak.core.cli import CliError, add_db_argument, add_exclude_argument, excluded, open_store
from tiebreak.core.formats.exporter import EXPORT_FORMATS, export_annotations

#: Other files written by ``export``: AlpacaEval's leaderboard CSV and the foreign formats.
OTHER_FORMATS = ("alpaca-leaderboard", "arena", "parquet")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="export annotations (alpaca-eval, cross-annotations, csv, jsonl)",
        description="Export live (non-retracted) annotations. Preferences are written with full "
        "precision, so importing the file again gives bit-identical values. The file is written "
        "whole or not at all; an existing file is replaced only with --force, and never a "
        "database.",
    )
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS + OTHER_FORMATS, help="output format "
                   "(alpaca-leaderboard: AlpacaEval's <annotator>_leaderboard.csv for one annotator "
                   "and reference; arena: Chatbot Arena battles JSON; parquet: the CSV columns)")  # fmt: skip
    p.add_argument("--extra-columns", action="store_true",
                   help="alpaca-eval: also write Tiebreak's own fields (annotator_index, kind, "
                   "rationale, swapped, source extras) so a re-import is exact")  # fmt: skip
    p.add_argument("--reference", metavar="NAME", help="alpaca-leaderboard: reference generator")
    p.add_argument("--mode", default="community", choices=["minimal", "verified", "community", "dev"],
                   help="alpaca-leaderboard: the mode column (default community)")  # fmt: skip
    from tiebreak.core.cli.cmd_leaderboard import add_lc_arguments

    add_lc_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    p.add_argument("--force", action="store_true",
                   help="replace an existing file (never a database or its -wal/-shm file)")
    p.add_argument("--annotator", action="append", metavar="NAME",
                   help="keep this annotator group (a judge's name or e.g. 'humans'); repeatable")  # fmt: skip
    p.add_argument("--generator", action="append", metavar="NAME",
                   help="keep comparisons involving this generator; repeatable")  # fmt: skip
    add_exclude_argument(p)
    p.add_argument("--raw-csv", action="store_true",
                   help="CSV: write cells as stored, even those a spreadsheet would run as formulas "
                   "(by default a cell starting with = + - @ tab or CR gets a leading ')")  # fmt: skip
    add_db_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the selection and say how many records went where."""
    if args.format == "alpaca-leaderboard":
        return _leaderboard(args)
    store = open_store(args.db, create=args.create)
    try:
        if args.format in OTHER_FORMATS:
            from tiebreak.core.formats.writers import export_other

            n = export_other(store, args.output, args.format, args.annotator, args.generator, force=args.force)
        else:
            n = export_annotations(store, args.output, args.format, args.annotator, args.generator,
                                   exclude=excluded(store, args.exclude), force=args.force,
                                   raw_csv=args.raw_csv, extra_columns=args.extra_columns)  # fmt: skip
    finally:
        store.close()
    print(f"wrote {n} annotations to {args.output} ({args.format})")
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    """Write AlpacaEval's leaderboard CSV for one annotator group and reference."""
    from tiebreak.core.cli import cmd_leaderboard
    from tiebreak.core.formats.leaderboard_csv import leaderboard_csv
    if args.annotator and len(args.annotator) > 1:
        raise CliError("alpaca-leaderboard holds one annotator group: give --annotator once")
    if args.generator:
        raise CliError("alpaca-leaderboard lists every model: --generator does not apply")
    args.annotator = args.annotator[0] if args.annotator else None
    args.format, args.resamples = "csv", 0
    store = open_store(args.db, create=args.create)
    try:
        table = cmd_leaderboard.compute(store, args, bootstrap=False)
        leaderboard_csv(table, args.output, mode=args.mode, force=args.force, protect=[store.path])
    finally:
        store.close()
    print(f"wrote {len(table)} leaderboard rows to {args.output} (alpaca-leaderboard)")
    return 0
