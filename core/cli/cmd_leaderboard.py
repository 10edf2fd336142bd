"""``tiebreak leaderboard``: AlpacaEval-exact model leaderboard with LC and intervals."""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING

from tiebreak.core import cli
from tiebreak.core.cli.leaderboard_text import render_records
from tiebreak.core.metrics.lc_refresh import DEFAULT_MIN_MODELS

if TYPE_CHECKING:  # heavy imports (scipy.stats, the store) happen in run(): `tiebreak --help` is fast
    import pandas as pd

    from tiebreak.core.metrics.model_table import BoardOptions
    from tiebreak.core.store import Store

#: Default: analytic (tie-adjusted Wilson) intervals only; BCa bootstrap on request (--resamples N).
CLI_RESAMPLES = 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``leaderboard`` subcommand."""
    p = sub.add_parser("leaderboard", help="model win rates vs a reference (AlpacaEval columns)")
    cli.add_db_argument(p)
    p.add_argument(
        "--annotator", metavar="NAME", help="annotator group (judge name or human group)"
    )
    p.add_argument("--reference", metavar="NAME", help="reference generator (output_1)")
    p.add_argument(
        "--format", choices=["table", "csv", "json"], default="table",
        help="table: percent with intervals and notes; csv: AlpacaEval's columns and percent "
        "scale (one annotator and reference); json: every column, fractions",
    )  # fmt: skip
    add_lc_arguments(p)
    p.add_argument("--mode", default="community", choices=["minimal", "verified", "community", "dev"],
                   help="the csv's mode column (AlpacaEval's leaderboard modes; default community)")  # fmt: skip
    p.add_argument(
        "--resamples", type=int, default=CLI_RESAMPLES,
        help="BCa bootstrap resamples per model, e.g. 2000 (default 0: analytic Wilson intervals only, fast)",
    )  # fmt: skip
    cli.add_exclude_argument(p)
    p.set_defaults(func=run)


def add_lc_arguments(p: argparse.ArgumentParser) -> None:
    """The LC options shared by ``leaderboard`` and ``export --format alpaca-leaderboard``."""
    p.add_argument(
        "--lc-weights", metavar="CSV",
        help="AlpacaEval's GLM weights (metrics/weights/<annotator>/length_controlled_v1/"
        "baseline_<reference>.csv, or lc_weights_<annotator>_baseline_<reference>.csv)",
    )  # fmt: skip
    p.add_argument(
        "--lc-difficulty", metavar="CSV",
        help="instruction difficulty table: AlpacaEval's instruction_difficulty.csv (index, "
        "value) or a derived table with an instruction column",
    )  # fmt: skip
    p.add_argument("--lc-annotator", metavar="NAME", help="annotator the LC weights belong to (default: from the path)")
    p.add_argument("--lc-baseline", metavar="NAME", help="baseline of the LC weights (default: from the path)")
    p.add_argument("--min-models", type=int, default=DEFAULT_MIN_MODELS, help="models needed to estimate difficulty")


def options(args: argparse.Namespace) -> BoardOptions:
    """The leaderboard options of parsed ``leaderboard`` (or ``export --format alpaca-leaderboard``) arguments."""
    from tiebreak.core.metrics.model_table import BoardOptions

    exclude = getattr(args, "exclude", None)
    return BoardOptions(
        annotator=args.annotator, reference=args.reference, csv=args.format == "csv", lc_weights=args.lc_weights,
        lc_difficulty=args.lc_difficulty, lc_annotator=getattr(args, "lc_annotator", None),
        lc_baseline=getattr(args, "lc_baseline", None), min_models=args.min_models, resamples=args.resamples,
        exclude=tuple(exclude) if exclude is not None else None,
    )  # fmt: skip


def cached_records(store: Store, args: argparse.Namespace) -> list[dict[str, object]] | None:
    """:func:`tiebreak.core.metrics.model_table.cached_records` for ``args``."""
    from tiebreak.core.metrics import model_table

    return model_table.cached_records(store, options(args))


def fresh_records(store: Store, args: argparse.Namespace) -> list[dict[str, object]] | None:
    """:func:`tiebreak.core.metrics.model_table.fresh_records` for ``args`` (numpy with one BLAS thread)."""
    from tiebreak.core.metrics import model_table

    cli.one_blas_thread()
    return model_table.fresh_records(store, options(args))


def compute(store: Store, args: argparse.Namespace, bootstrap: bool = True) -> pd.DataFrame:
    """:func:`tiebreak.core.metrics.model_table.compute` for ``args``."""
    from tiebreak.core.metrics import model_table

    return model_table.compute(store, options(args), bootstrap=bootstrap)


def interval_method(args: argparse.Namespace) -> str:
    """Which intervals the output holds (printed with the table, a field of the JSON rows)."""
    if args.resamples > 0:
        return f"Wilson 95% (analytic) and BCa 95% bootstrap ({args.resamples} resamples)"
    return "Wilson 95% (analytic); BCa bootstrap not computed (ask with --resamples N, e.g. 2000)"


def run(args: argparse.Namespace) -> int:
    """Print the leaderboard (from the LC cache without importing pandas when it is current)."""
    store = cli.open_store(args.db, create=args.create)
    try:
        records = cached_records(store, args) if args.format != "csv" else None
        if records is None and args.format != "csv":
            records = fresh_records(store, args)
        if records is None:
            table = compute(store, args, bootstrap=args.format != "csv")  # the CSV has no intervals
            records = to_records(table) if args.format != "csv" else None
    finally:
        store.close()
    if args.format == "table":
        print(render_records(records or [], bca=args.resamples > 0))
        print(f"intervals: {interval_method(args)}")
        return 0
    if args.format == "csv":  # compute() checked that there is one annotator and reference
        from tiebreak.core.formats.leaderboard_csv import leaderboard_csv

        print(leaderboard_csv(table, mode=args.mode), end="")
        return 0
    method = interval_method(args)
    print(json.dumps([{**{k: _plain(v) for k, v in r.items()}, "interval_method": method} for r in records or []],
                     indent=2))  # fmt: skip
    return 0


def _plain(value: object) -> object:
    """A JSON-safe scalar: numpy scalars unwrapped, NaN as None."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def to_records(table: pd.DataFrame) -> list[dict]:
    """JSON rows (fractions; NaN -> null)."""
    return [
        {k: _plain(v) for k, v in rec.items()}
        for rec in table.reset_index().to_dict(orient="records")
    ]


def render_table(table: pd.DataFrame, bca: bool = True) -> str:
    """Human-readable blocks per (annotator, reference), percent with intervals and notes.

    Without ``bca`` the BCa column (not computed) is left out. See
    :func:`tiebreak.core.cli.leaderboard_text.render_records` (the same text from plain records).
    """
    return render_records(to_records(table), bca=bca)


__all__ = ["register", "run", "options", "compute", "cached_records", "fresh_records", "render_table"]
