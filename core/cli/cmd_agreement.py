"""``tiebreak agreement``: judge (evaluator) metrics against a gold group of human annotators."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING

from tiebreak.core import cli
from tiebreak.core.metrics import evaluator_table
from tiebreak.core.text_safety import csv_frame

if TYPE_CHECKING:
    import pandas as pd

    from tiebreak.core.store import Store


#: USD per hour for the humans' price when neither --hourly-rate nor stored prices are given.
DEFAULT_HOURLY_RATE = evaluator_table.DEFAULT_HOURLY_RATE


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``agreement`` subcommand."""
    p = sub.add_parser(
        "agreement", help="judge metrics vs human cross-annotations (AlpacaEval evaluator columns)"
    )
    cli.add_db_argument(p)
    p.add_argument("--gold", metavar="GROUP", required=True, help="human annotator group (the gold)")
    p.add_argument(
        "--judge", metavar="NAME", action="append", dest="judges",
        help="judge group to evaluate (repeatable; default: every judge with labels on the gold)",
    )  # fmt: skip
    p.add_argument(
        "--hourly-rate", metavar="USD", type=float, default=None,
        help="pay per hour of human labelling: the humans' price is their measured seconds x this "
        f"rate (default: the stored price per example when the gold labels have one, as "
        f"AlpacaEval's files do, else {DEFAULT_HOURLY_RATE:g} USD/h)",
    )  # fmt: skip
    p.add_argument(
        "--gold-labels", metavar="N", type=int, default=None,
        help="labels per gold comparison (AlpacaEval's Analyzer n_annotators, 4 there; default: "
        "the most common number): comparisons with fewer are left out, with more keep their first N",
    )  # fmt: skip
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    cli.add_exclude_argument(p)
    p.add_argument("--exclude-gold", action="store_true", help="leave out the gold (known-answer) items of crowd rounds")
    p.add_argument(
        "--per-item", metavar="N", type=int,
        help="use N labels of the gold group per comparison (AlpacaEval uses 4), chosen by a fixed hash rule",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the judge metrics."""
    from tiebreak.core.metrics.agreement import TIE_RULE

    if args.gold_labels is not None and args.gold_labels < 1:
        raise cli.CliError(f"--gold-labels must be at least 1, got {args.gold_labels}")
    if args.hourly_rate is not None and (args.hourly_rate < 0 or math.isnan(args.hourly_rate)):
        raise cli.CliError(f"--hourly-rate must be a non-negative number, got {args.hourly_rate}")
    store = cli.open_store(args.db, create=args.create)
    try:
        table = evaluator_table.compute(store, args.gold, args.judges, args.hourly_rate, args.gold_labels, exclude=args.exclude,
                        exclude_gold=args.exclude_gold, per_item=args.per_item)
        versions = _versions(store, table, args.gold)
        if args.format == "csv":
            table = alpaca_csv_table(store, table, args.gold)
    finally:
        store.close()
    notes = table.attrs["notes"]
    if args.format == "csv":
        out = table.copy()
        out.index.name = None
        print(csv_frame(out).to_csv(), end="")
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
    elif args.format == "json":
        rows = [{"annotator": name, **{k: _json(v) for k, v in row.items()}, **versions.get(str(name), {})}
                for name, row in table.iterrows()]  # fmt: skip
        print(json.dumps({"rows": rows, "notes": notes, "tie_rule": TIE_RULE}, indent=2))
    else:
        print(render_table(table))
        described = [f"{n} = v{v['version']} ({v['config_hash']})" for n, v in versions.items()]
        for note in [*notes, *(["configuration versions: " + ", ".join(described)] if described else []),
                     f"majority tie rule: {TIE_RULE}"]:  # fmt: skip
            print(f"note: {note}")
    return 0


#: AlpacaEval's evaluators_leaderboard.csv columns, in its order (its last one is ``mode``).
ALPACA_COLUMNS = ("Human agreement", "Price [$/1000 examples]", "Time [seconds/1000 examples]",
                  "Spearman corr.", "Pearson corr.", "Bias", "Variance", "Proba. prefer longer",
                  "Proba. prefer lists", "Proba. prefer 1", "# parsed", "mode")  # fmt: skip


def _versions(store: Store, table: pd.DataFrame, gold: str) -> dict[str, dict[str, str]]:
    """{judge: {"version", "config_hash"}} of the judge rows (the configuration version of their verdicts)."""
    from tiebreak.core.judge.versions import group_versions

    found = group_versions(store, [str(i) for i in table.index if i != gold])
    return {name: {"version": v, "config_hash": h} for name, (v, h) in found.items()}


def alpaca_csv_table(store: Store, table: pd.DataFrame, gold: str) -> pd.DataFrame:
    """The table in AlpacaEval's evaluator-leaderboard layout, then the configuration versions.

    Columns: AlpacaEval's (``mode`` is "minimal", the tag ``alpaca_eval analyze_evaluators``
    gives), then ``version`` and ``config_hash`` (which version of each judge's configuration
    produced its verdicts; empty for the humans), then Tiebreak's extra agreement columns.
    """
    from tiebreak.core.judge.versions import group_versions

    out = table.copy()
    out["mode"] = "minimal"
    found = group_versions(store, [str(i) for i in out.index if i != gold])
    out["version"] = [found.get(str(i), ("", ""))[0] for i in out.index]
    out["config_hash"] = [found.get(str(i), ("", ""))[1] for i in out.index]
    extra = [c for c in table.columns if c not in ALPACA_COLUMNS]
    out = out[[*ALPACA_COLUMNS, "version", "config_hash", *extra]]
    out.index.name = None
    out.attrs = table.attrs
    return out


def _json(v: object) -> object:
    """NaN -> None, numpy scalars -> Python."""
    v = getattr(v, "item", lambda: v)()
    return None if isinstance(v, float) and math.isnan(v) else v


#: Short headers for the text table and the number of decimals shown.
_SHORT = {
    "Human agreement": ("Agree", 1), "Price [$/1000 examples]": ("$/1000", 2),
    "Time [seconds/1000 examples]": ("s/1000", 0), "Spearman corr.": ("Spearman", 3),
    "Pearson corr.": ("Pearson", 3), "Bias": ("Bias", 1), "Variance": ("Var", 1),
    "Proba. prefer longer": ("P(long)", 3), "Proba. prefer lists": ("P(list)", 3),
    "Proba. prefer 1": ("P(1)", 3), "# parsed": ("#parsed", 0), "Raw agreement": ("Raw", 3),
    "Raw agreement (no ties)": ("RawNoTie", 3), "Cohen's kappa": ("kappa", 3),
    "Krippendorff's alpha": ("alpha", 3),
}  # fmt: skip


def render_table(table: pd.DataFrame) -> str:
    """Fixed-width text table: AlpacaEval's columns (its scale), then the extra fractions."""
    width = max(len(str(i)) for i in table.index) + 2
    lines = [f"{'annotator':<{width}}" + "".join(f"{_SHORT[c][0]:>10}" for c in table.columns)]
    for name, row in table.iterrows():
        cells = [
            f"{'—':>10}" if math.isnan(float(v)) else f"{float(v):>10.{_SHORT[str(c)][1]}f}"
            for c, v in row.items()
        ]
        lines.append(f"{name!s:<{width}}" + "".join(cells))
    legend = ", ".join(f"{short}={col}" for col, (short, _) in _SHORT.items())
    return "\n".join(lines + [f"columns: {legend}"])
