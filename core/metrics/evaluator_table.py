"""The evaluator leaderboard's table (``tiebreak agreement``'s numbers) for the CLI, the export and the app; no Qt.

Each judge group against a gold group of human annotators: human agreement (leave-one-out against
the majority), price and time per 1,000, bias, variance, length / list / position bias
(:func:`tiebreak.core.metrics.judge.judge_metrics`), after the selection the CLI's options make
(excluded workers, gold items, labels per item).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tiebreak.core.metrics import MetricsError

if TYPE_CHECKING:  # pandas only when a table is computed
    import pandas as pd

    from tiebreak.core.store import Store

__all__ = ["DEFAULT_HOURLY_RATE", "compute", "labels_frame", "select_judges", "select_labels"]

#: USD per hour for the humans' price when neither an hourly rate nor stored prices are given.
DEFAULT_HOURLY_RATE = 18.0


def select_judges(store: Store, gold: str, judges: list[str] | None) -> list[str]:
    """Validated judge names (default: every judge group); unknown names raise CliError."""
    known = {g["group"]: g["kind"] for g in store.groups() if g["annotations"] > 0}
    if gold not in known:
        raise MetricsError(f"unknown annotator group {gold!r} for --gold (known: {', '.join(sorted(known)) or 'none'})")
    unknown = [j for j in judges or [] if j not in known]
    if unknown:
        raise MetricsError(f"unknown annotator group(s) for --judge: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if judges:
        return [j for j in judges if j != gold]
    return [g for g, kind in sorted(known.items()) if kind == "judge" and g != gold]


def compute(
    store: Store, gold: str, judges: list[str] | None, hourly_rate: float | None, n_gold: int | None = None, *,
    exclude: list[str] | None = None, exclude_gold: bool = False, per_item: int | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The judge-metrics table (AlpacaEval's evaluator columns) for a selection; notes in ``.attrs['notes']``."""
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
        raise MetricsError(f"judge(s) {missing} have no label on the comparisons of {gold!r}")
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
        excluded_workers,
        gold_comparisons,
        keep_per_item,
    )

    names = excluded_workers(store, exclude)
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
        raise MetricsError(f"--per-item must be at least 1, got {per_item}")
    counts = frame[frame["annotator"] == gold].groupby("comparison_id").size()
    n = per_item or 0
    if n and (counts > n).any():
        frame, dropped = keep_per_item(frame, gold, n)
        notes.append(f"{int((counts > n).sum())} comparison(s) have more than {n} labels of {gold}: {dropped} "
                     f"label(s) not used here (rule: {PER_ITEM_RULE}); annotator quality uses all labels")  # fmt: skip
    return frame
