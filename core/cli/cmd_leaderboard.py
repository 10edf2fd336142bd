"""``tiebreak leaderboard``: AlpacaEval-exact model leaderboard with LC and intervals."""

from __future__ import annotations

import argparse
import functools
import json
import math
from typing import TYPE_CHECKING, cast

from tiebreak.core import cli

if TYPE_CHECKING:  # heavy imports (scipy.stats, the store) happen in run(): `tiebreak --help` is fast
    import pandas as pd

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


def compute(store: Store, args: argparse.Namespace, bootstrap: bool = True) -> pd.DataFrame:
    """The full leaderboard for the selection in ``args`` (fraction scale)."""
    from tiebreak.core.crowd.selection import annotation_ids_of
    from tiebreak.core.metrics import sql as q
    from tiebreak.core.metrics.intervals import DEFAULT_SEED
    from tiebreak.core.metrics.lc import PublishedLC
    from tiebreak.core.metrics.leaderboard import full_leaderboard
    from tiebreak.core.metrics.winrate import from_sums

    groups = [args.annotator] if args.annotator else None
    refs = [args.reference] if args.reference else None
    # The AlpacaEval row comes from the trigger-kept sums; the frame feeds LC and intervals.
    # Both are read in one read transaction: one snapshot, even while another process labels.
    with store.snapshot():
        sums = q.winrate_sums(store, groups=groups, references=refs)
        frame = q.lean_frame(store, groups=groups, references=refs)  # integer reads, no texts
        lengths = q.avg_lengths(store)
        rows = from_sums(sums, lengths)
        dropped = annotation_ids_of(store, cli.excluded(store, getattr(args, "exclude", None)))
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
    published = None
    if args.lc_weights and not args.lc_difficulty:
        raise cli.CliError("--lc-weights needs --lc-difficulty (the instruction difficulty table)")
    if args.lc_difficulty:  # alone: every model fitted with AlpacaEval's GLM on that difficulty
        ids = functools.partial(q.instruction_ids_by_text, store)
        published = PublishedLC.from_files(args.lc_weights, args.lc_difficulty, ids,
                                           args.lc_annotator, args.lc_baseline)  # fmt: skip
    return full_leaderboard(
        frame, rows=stored_rows, avg_lengths=lengths, published=published, min_models=args.min_models,
        bootstrap=bootstrap and args.resamples > 0, n_resamples=max(args.resamples, 1),
        seed=DEFAULT_SEED,
    )  # fmt: skip


def interval_method(args: argparse.Namespace) -> str:
    """Which intervals the output holds (printed with the table, a field of the JSON rows)."""
    if args.resamples > 0:
        return f"Wilson 95% (analytic) and BCa 95% bootstrap ({args.resamples} resamples)"
    return "Wilson 95% (analytic); BCa bootstrap not computed (ask with --resamples N, e.g. 2000)"


def run(args: argparse.Namespace) -> int:
    """Print the leaderboard."""
    from tiebreak.core.formats.leaderboard_csv import leaderboard_csv

    store = cli.open_store(args.db, create=args.create)
    try:
        table = compute(store, args, bootstrap=args.format != "csv")  # the CSV has no intervals
    finally:
        store.close()
    if args.format == "table":
        print(render_table(table, bca=args.resamples > 0))
        print(f"intervals: {interval_method(args)}")
        return 0
    if args.format == "csv":  # compute() checked that there is one annotator and reference
        print(leaderboard_csv(table, mode=args.mode), end="")
        return 0
    table["interval_method"] = interval_method(args)
    print(json.dumps(to_records(table), indent=2))
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


def _pct(v: float) -> str:
    return "—" if v is None or math.isnan(v) else f"{100 * v:.2f}"


def render_table(table: pd.DataFrame, bca: bool = True) -> str:
    """Human-readable blocks per (annotator, reference), percent with intervals and notes.

    Without ``bca`` the BCa column (not computed) is left out.
    """
    import pandas as pd

    lines = []
    for (ref, group), block in table.groupby(level=["generator_1", "annotator"], sort=True):
        lines.append(f"annotator {group} vs reference {ref}")
        block = block.sort_values("win_rate", ascending=False)
        rows = []
        for key, r in block.iterrows():
            model = cast(tuple[str, str, str], key)[0]  # (generator_2, generator_1, annotator)
            n_len = r.avg_length
            rows.append({
                "model": model, "win_rate": _pct(r.win_rate), "± SE": _pct(r.standard_error),
                "Wilson 95%": f"{_pct(r.wilson_low)}–{_pct(r.wilson_high)}",
                **({"BCa 95%": f"{_pct(r.bca_low)}–{_pct(r.bca_high)}"} if bca else {}),
                "LC": _pct(r.length_controlled_winrate), "LC SE": _pct(r.lc_standard_error),
                "discrete": _pct(r.discrete_win_rate),
                "W/L/D": f"{r.n_wins}/{r.n_wins_base}/{r.n_draws}", "n": int(r.n_total),
                "avg_len": "—" if math.isnan(n_len) else int(n_len),
            })  # fmt: skip
        lines.append(pd.DataFrame(rows).to_string(index=False))
        dropped = int(block["n_dropped"].sum())
        lines.append(f"rows dropped (unparsed/null preference): {dropped}")
        for key, note in block["note"].items():
            model = cast(tuple[str, str, str], key)[0]
            if note:
                lines.append(f"  note {model}: {note}")
        lines.append("")
    return "\n".join(lines).rstrip()


__all__ = ["register", "run", "compute", "render_table"]
