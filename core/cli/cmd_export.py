"""``tiebreak export``: write annotations as AlpacaEval annotations, cross-annotations, CSV or JSONL."""

from __future__ import annotations

import argparse

from tiebreak.core.cli import add_db_argument, add_exclude_argument, excluded, open_store
from tiebreak.core.formats.exporter import EXPORT_FORMATS, export_annotations


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
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="output format")
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
    store = open_store(args.db, create=args.create)
    try:
        n = export_annotations(store, args.output, args.format, args.annotator, args.generator,
                               exclude=excluded(store, args.exclude), force=args.force,
                               raw_csv=args.raw_csv)  # fmt: skip
    finally:
        store.close()
    print(f"wrote {n} annotations to {args.output} ({args.format})")
    return 0
