"""``tiebreak agreement``: judge (evaluator) metrics against a gold group of human annotators."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING

from tiebreak.core import cli
from tiebreak.core.text_safety import csv_frame

if TYPE_CHECKING:
    import pandas as pd

    from tiebreak.core.store import Store


#: USD per hour for the humans' price when neither --hourly-rate nor stored prices are given.
DEFAULT_HOURLY_RATE = 18.0


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


def select_judges(store: Store, gold: str, judges: list[str] | None) -> list[str]:
    """Validated judge names (default: every judge group); unknown names raise CliError."""
    known = {g["group"]: g["kind"] for g in store.groups() if g["annotations"] > 0}
    if gold not in known:
        raise cli.CliError(f"unknown annotator group {gold!r} for --gold (known: {', '.join(sorted(known)) or 'none'})")
    unknown = [j for j in judges or [] if j not in known]
    if unknown:
        raise cli.CliError(f"unknown annotator group(s) for --judge: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if judges:
        return [j for j in judges if j != gold]
    return [g for g, kind in sorted(known.items()) if kind == "judge" and g != gold]


def compute(
    store: Store, gold: str, judges: list[str] | None, hourly_rate: float | None, n_gold: int | None = None, *,
    exclude: list[str] | None = None, exclude_gold: bool = False, per_item: int | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The judge-metrics table for the CLI selection (notes in ``.attrs['notes']``)."""
    import numpy as np

    from tiebreak.core.metrics.judge import judge_metrics

    names, notes = select_judges(store, gold, judges), list[str]()
    frame = select_labels(store, labels_frame(store, gold, names), gold, exclude, exclude_gold, per_item, notes)
    gold_cids = set(frame.loc[frame["annotator"] == gold, "comparison_id"])
    overlap = frame[frame["comparison_id"].isin(gold_cids)].groupby("annotator").size()
    keep = [n for n in names if n in overlap.index]
    if judges is None and len(keep) < len(names):
        notes.append(f"judges without labels on the gold comparisons skipped: {', '.join(sorted(set(names) - set(keep)))}")
    elif len(keep) < len(names):
        missing = ", ".join(sorted(set(names) - set(keep)))
        raise cli.CliError(f"judge(s) {missing} have no label on the comparisons of {gold!r}")
    gold_price = frame.loc[frame["annotator"] == gold, "price_per_example"].astype(float)
    if hourly_rate is None and gold_price.notna().any():
        notes.append(f"{gold}: price = the stored price per example (--hourly-rate overrides)")
    elif hourly_rate is None:
        hourly_rate = DEFAULT_HOURLY_RATE
        notes.append(f"{gold}: no stored price; price = measured seconds x {hourly_rate:g} USD/h")
    table = judge_metrics(frame, gold, keep, hourly_rate=hourly_rate, n_gold=n_gold)
    table.attrs["notes"] = notes + table.attrs.get("notes", [])
    n_missing_time = int(np.isnan(frame.loc[frame["annotator"] == gold, "time_per_example"].astype(float)).sum())
    if n_missing_time:
        table.attrs["notes"].append(f"{gold}: {n_missing_time} label(s) without recorded seconds (not in price/time)")
    return table


def labels_frame(store: Store, gold: str, judges: list[str]) -> pd.DataFrame:
    """The labels of the gold group and the judges, texts only on the gold's comparisons.

    Equal to ``store.annotations_frame(groups=[gold, *judges])`` on every comparison the gold
    group labelled; elsewhere (judge labels the metrics leave out, e.g. 170,000 leaderboard
    verdicts) instruction and outputs are left empty instead of loading every text.
    """
    import pandas as pd

    with store.snapshot():
        gold_rows = store.annotations_frame(groups=[gold])
        others = store.annotations_frame(groups=[j for j in judges if j != gold], with_texts=False) if judges else None
    if others is None or others.empty:
        return gold_rows
    texts = gold_rows.drop_duplicates("comparison_id").set_index("comparison_id")[["instruction", "output_1", "output_2"]]
    others = others.join(texts, on="comparison_id")
    both = pd.concat([gold_rows, others[gold_rows.columns]], ignore_index=True)
    return both.sort_values("annotation_id", kind="stable").reset_index(drop=True)


def select_labels(
    store: Store, frame: pd.DataFrame, gold: str, exclude: list[str] | None, exclude_gold: bool,
    per_item: int | None, notes: list[str],
) -> pd.DataFrame:  # fmt: skip
    """Apply --exclude, --exclude-gold and --per-item; every label left out is counted in a note.

    Without --per-item nothing is capped here (``--gold-labels N`` then keeps the first N labels in
    AlpacaEval's numbering, as its Analyzer does); with it, the documented hash rule keeps N.
    """
    from tiebreak.core.crowd.selection import (
        PER_ITEM_RULE,
        drop_workers,
        gold_comparisons,
        keep_per_item,
    )

    names = cli.excluded(store, exclude)
    before = len(frame)
    frame = drop_workers(frame, names)
    if names and before > len(frame):
        notes.append(f"excluded worker(s) {', '.join(sorted(names))}: {before - len(frame)} label(s) left out")
    if exclude_gold:
        ids = gold_comparisons(store)
        n_gold_rows = int(frame["comparison_id"].isin(ids).sum())
        frame = frame[~frame["comparison_id"].isin(ids)]
        notes.append(f"--exclude-gold: {n_gold_rows} label(s) on {len(ids)} gold item(s) left out")
    if per_item is not None and per_item < 1:
        raise cli.CliError(f"--per-item must be at least 1, got {per_item}")
    counts = frame[frame["annotator"] == gold].groupby("comparison_id").size()
    n = per_item or 0
    if n and (counts > n).any():
        frame, dropped = keep_per_item(frame, gold, n)
        notes.append(f"{int((counts > n).sum())} comparison(s) have more than {n} labels of {gold}: {dropped} "
                     f"label(s) not used here (rule: {PER_ITEM_RULE}); annotator quality uses all labels")  # fmt: skip
    return frame


def run(args: argparse.Namespace) -> int:
    """Print the judge metrics."""
    from tiebreak.core.metrics.agreement import TIE_RULE

    if args.gold_labels is not None and args.gold_labels < 1:
        raise cli.CliError(f"--gold-labels must be at least 1, got {args.gold_labels}")
    if args.hourly_rate is not None and (args.hourly_rate < 0 or math.isnan(args.hourly_rate)):
        raise cli.CliError(f"--hourly-rate must be a non-negative number, got {args.hourly_rate}")
    store = cli.open_store(args.db, create=args.create)
    try:
        table = compute(store, args.gold, args.judges, args.hourly_rate, args.gold_labels, exclude=args.exclude,
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
