"""``tiebreak export``: write annotations as AlpacaEval annotations, cross-annotations, CSV or JSONL."""

from __future__ import annotations

import argparse

from tiebreak.core.cli import CliError, add_db_argument, open_store

#: ``tiebreak.core.formats.exporter.EXPORT_FORMATS`` (that module loads the store; tests keep the two equal).
EXPORT_FORMATS = ("alpaca-eval", "cross-annotations", "csv", "jsonl")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="export annotations (alpaca-eval, cross-annotations, csv, jsonl)",
        description="Export live (non-retracted) annotations. Preferences are written with full "
        "precision, so importing the file again gives bit-identical values.",
    )
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="output format")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    p.add_argument("--annotator", action="append", metavar="NAME",
                   help="keep this annotator group (a judge's name or e.g. 'humans'); repeatable")  # fmt: skip
    p.add_argument("--generator", action="append", metavar="NAME",
                   help="keep comparisons involving this generator; repeatable")  # fmt: skip
    p.add_argument("--raw-csv", action="store_true",
                   help="CSV: write cells as stored, even those a spreadsheet would run as formulas "
                   "(by default a cell starting with = + - @ tab or CR gets a leading ')")  # fmt: skip
    add_db_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the selection and say how many records went where."""
    from tiebreak.core.formats.exporter import export_annotations
    from tiebreak.core.store import UnknownName

    store = open_store(args.db)
    try:
        n = export_annotations(store, args.output, args.format, args.annotator, args.generator,
                               raw_csv=args.raw_csv)  # fmt: skip
    except UnknownName as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    finally:
        store.close()
    print(f"wrote {n} annotations to {args.output} ({args.format})")
    return 0
