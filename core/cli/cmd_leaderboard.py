"""``tiebreak leaderboard``: AlpacaEval-exact model leaderboard with LC and intervals."""

from __future__ import annotations

import argparse
import functools
import json
import math
from typing import TYPE_CHECKING

from tiebreak.core import cli
from tiebreak.core.cli.leaderboard_text import render_records

if TYPE_CHECKING:  # heavy imports (scipy.stats, the store) happen in run(): `tiebreak --help` is fast
    import pandas as pd

    from tiebreak.core.metrics.lc import PublishedLC
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
    p.add_argument("--min-models", type=int, default=3, help="models needed to estimate difficulty")


def _cache_method(args: argparse.Namespace) -> str | None:
    """The LC cache's method key of the options in ``args`` (None: not cacheable)."""
    from tiebreak.core.metrics import lc_cache

    if args.lc_weights and not args.lc_difficulty:
        return None  # an error: the computation reports it
    return lc_cache.method_key(args.min_models, args.lc_weights, args.lc_difficulty,
                               getattr(args, "lc_annotator", None), getattr(args, "lc_baseline", None))  # fmt: skip


def _selection(args: argparse.Namespace) -> dict[str, list[str] | None]:
    return {"groups": [args.annotator] if args.annotator else None,
            "references": [args.reference] if args.reference else None}  # fmt: skip


def cached_records(store: Store, args: argparse.Namespace) -> list[dict[str, object]] | None:
    """The leaderboard as plain records (fractions) when every row's LC is cached, else None; no pandas.

    Only for the options the cache covers: no bootstrap (``--resamples 0``), no excluded worker,
    readable LC files. The win-rate columns come from the trigger-kept sums, LC and the Wilson
    interval from the cache (valid for the current data version): the same numbers as :func:`compute`.
    """
    from tiebreak.core.crowd.selection import annotation_ids_of
    from tiebreak.core.metrics import board_rows, lc_cache
    from tiebreak.core.metrics import sql as q

    method = _cache_method(args)
    if method is None or args.resamples > 0:
        return None
    with store.snapshot():
        rows = board_rows.sums_rows(store, **_selection(args))
        if not rows or annotation_ids_of(store, cli.excluded(store, getattr(args, "exclude", None))):
            return None  # no rows: compute() says why; labels of excluded workers: the sums include them
        cached = lc_cache.lookup(store, [k for k, _ in rows], method, lc_cache.versions(store))
        lengths = q.avg_lengths(store) if cached is not None else {}
    return None if cached is None else board_rows.records(rows, lengths, cached)


def fresh_records(store: Store, args: argparse.Namespace) -> list[dict[str, object]] | None:
    """The leaderboard as plain records with LC fitted without pandas, or None when the options need pandas.

    For the fitted LC methods without bootstrap or LC files (the common case): the panels the
    cache does not hold are fitted from integer arrays and stored in the cache
    (``tiebreak.core.metrics.lc_fast``), the same numbers as :func:`compute`. None also for an
    empty selection (:func:`compute` says why).
    """
    from tiebreak.core.crowd.selection import annotation_ids_of

    method = _cache_method(args)
    if method is None or args.resamples > 0 or args.lc_weights or args.lc_difficulty:
        return None
    cli.one_blas_thread()
    from tiebreak.core.metrics.lc_fast import fresh_records as fresh

    names = cli.excluded(store, getattr(args, "exclude", None))
    excluded = sorted(names) if annotation_ids_of(store, names) else []
    return fresh(store, method=method, min_models=args.min_models, excluded=excluded, **_selection(args))


def compute(store: Store, args: argparse.Namespace, bootstrap: bool = True) -> pd.DataFrame:
    """The full leaderboard for the selection in ``args`` (fraction scale).

    LC and the Wilson intervals come from the LC cache for every (annotator group, reference)
    panel it holds at the current data version; the other panels are computed from the
    annotation rows and stored in the cache (when the database can be written now; else the
    pending rows are left in ``table.attrs["lc_cache"]`` for :func:`save_cache`). With bootstrap
    the intervals are always computed from the rows (slow: one bootstrap per model); LC then
    comes from the cache when it holds every row.
    """
    from tiebreak.core.crowd.selection import annotation_ids_of
    from tiebreak.core.metrics import lc_cache
    from tiebreak.core.metrics import sql as q
    from tiebreak.core.metrics.leaderboard import combine_parts
    from tiebreak.core.metrics.winrate import from_sums

    boot = bootstrap and args.resamples > 0
    method = _cache_method(args)
    # The AlpacaEval row comes from the trigger-kept sums; the frame feeds LC and intervals.
    # Both are read in one read transaction: one snapshot, even while another process labels.
    with store.snapshot():
        sums = q.winrate_sums(store, **_selection(args))
        lengths = q.avg_lengths(store)
        rows = from_sums(sums, lengths)
        dropped = annotation_ids_of(store, cli.excluded(store, getattr(args, "exclude", None)))
        versions = lc_cache.versions(store) if method is not None and not dropped else None
        keys = list(rows.index)
        found = lc_cache.current(store, keys, method, versions) if method is not None and versions else {}
        if args.format == "csv" and len({k[1:] for k in keys}) > 1:
            found = {}  # several panels in a CSV: the fresh path names them in its error
        complete = bool(keys) and len(found) == len(keys)
        if not complete or boot:
            frame = q.lean_frame(store, **_selection(args))  # integer reads, no texts
    if complete and not boot:
        return combine_parts(rows, *_cached_parts(found))
    table, lc, iv = _fresh(store, args, frame, rows, lengths, dropped, bootstrap=bootstrap, found=found)
    if method is not None and versions is not None and not boot and len(lc):
        pending = lc_cache.pending(lc, iv, method, versions)
        if not lc_cache.save(store, pending):
            table.attrs["lc_cache"] = pending
    return table


def save_cache(store: Store, table: pd.DataFrame) -> bool:
    """Store the LC cache rows :func:`compute` could not store (it ran inside a read snapshot)."""
    from tiebreak.core.metrics import lc_cache

    pending = table.attrs.pop("lc_cache", None)
    return pending is not None and lc_cache.save(store, pending)


def _cached_parts(cached: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The LC table and the interval table (no BCa) from cached rows."""
    import pandas as pd

    from tiebreak.core.metrics.lc import LC_COLUMNS, LC_KEYS

    index = pd.MultiIndex.from_tuples(list(cached), names=LC_KEYS)
    values = list(cached.values())
    lc = pd.DataFrame([v[:4] for v in values], index=index, columns=LC_COLUMNS)
    iv = pd.DataFrame([(v[4], v[5], float("nan"), float("nan"), v[6]) for v in values], index=index,
                      columns=["wilson_low", "wilson_high", "bca_low", "bca_high", "interval_note"])  # fmt: skip
    return lc, iv


def _whole_panels(found: dict, keys: list) -> dict:
    """The cached rows of the panels (reference, group) whose every row is cached."""
    stale = {k[1:] for k in keys if k not in found}
    return {k: v for k, v in found.items() if k[1:] not in stale}


def _fresh(store: Store, args: argparse.Namespace, frame: pd.DataFrame, rows: pd.DataFrame,
           lengths: dict[str, int], dropped: set[int], *, bootstrap: bool,
           found: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The leaderboard with LC and intervals computed from the annotation rows: (table, LC, intervals).

    The panels whose every row is in ``found`` (cached) are not computed again: their cached rows
    join the table, and the returned LC and interval tables hold only what was computed. With
    bootstrap, LC is reused only when every row is cached, and the intervals are all computed.
    """
    import pandas as pd

    from tiebreak.core.metrics.intervals import DEFAULT_SEED, interval_table
    from tiebreak.core.metrics.leaderboard import combine_parts, leaderboard_parts
    from tiebreak.core.metrics.winrate import DEFAULT_KEYS

    frame, stored_rows = _checked(args, frame, rows, dropped)
    boot = bootstrap and args.resamples > 0
    if boot and stored_rows is not None and len(found) == len(rows):  # LC cached: intervals only
        lc = _cached_parts(found)[0]
        iv = interval_table(frame, DEFAULT_KEYS, n_resamples=max(args.resamples, 1), seed=DEFAULT_SEED)
        return combine_parts(stored_rows, lc, iv), lc.iloc[:0], iv.iloc[:0]
    reused = {} if boot else _whole_panels(found, list(rows.index))
    options = {"avg_lengths": lengths, "published": _published(store, args), "min_models": args.min_models,
               "bootstrap": boot, "n_resamples": max(args.resamples, 1), "seed": DEFAULT_SEED}  # fmt: skip
    if reused and stored_rows is not None:  # only the panels not cached are computed
        panels = list({k[1:] for k in reused})
        in_frame = pd.MultiIndex.from_arrays([frame["generator_1"], frame["annotator"]]).isin(panels)
        idx = stored_rows.index
        in_rows = pd.MultiIndex.from_arrays([idx.get_level_values("generator_1"), idx.get_level_values("annotator")])
        _, lc, iv = leaderboard_parts(frame[~in_frame], rows=stored_rows[~in_rows.isin(panels)], **options)
        cached_lc, cached_iv = _cached_parts(reused)
        return combine_parts(stored_rows, pd.concat([lc, cached_lc]), pd.concat([iv, cached_iv])), lc, iv
    new_rows, lc, iv = leaderboard_parts(frame, rows=stored_rows, **options)
    return combine_parts(new_rows, lc, iv), lc, iv


def _checked(args: argparse.Namespace, frame: pd.DataFrame, rows: pd.DataFrame,
             dropped: set[int]) -> tuple[pd.DataFrame, pd.DataFrame | None]:  # fmt: skip
    """The frame without excluded workers and the stored rows (None when workers are excluded);
    CliError for an empty selection or a CSV of several panels."""
    stored_rows: pd.DataFrame | None = rows
    if dropped:  # the stored sums include the excluded workers: recompute the rows from the frame
        frame, stored_rows = frame[~frame["annotation_id"].isin(dropped)], None
    if frame.empty:
        raise cli.CliError(
            "no annotations in this selection (import some, or check --annotator/--reference)"
        )
    if args.format == "csv":
        panels = frame[["generator_1", "annotator"]].drop_duplicates().sort_values(["annotator"])
        if len(panels) > 1:
            choices = ", ".join(
                f"--annotator {a} --reference {r}" for r, a in panels.itertuples(index=False)
            )
            raise cli.CliError(
                f"the CSV holds one annotator and reference; choose one of: {choices}"
            )
    return frame, stored_rows


def _published(store: Store, args: argparse.Namespace) -> PublishedLC | None:
    """The LC weights and difficulty table of ``--lc-weights`` / ``--lc-difficulty`` (None without)."""
    from tiebreak.core.metrics import sql as q
    from tiebreak.core.metrics.lc import PublishedLC

    if args.lc_weights and not args.lc_difficulty:
        raise cli.CliError("--lc-weights needs --lc-difficulty (the instruction difficulty table)")
    if not args.lc_difficulty:
        return None
    # alone: every model fitted with AlpacaEval's GLM on that difficulty
    ids = functools.partial(q.instruction_ids_by_text, store)
    return PublishedLC.from_files(args.lc_weights, args.lc_difficulty, ids, args.lc_annotator, args.lc_baseline)


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


__all__ = ["register", "run", "compute", "cached_records", "fresh_records", "save_cache", "render_table"]
