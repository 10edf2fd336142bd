"""``tiebreak compare``: paired test of two models on the same instructions, or a Holm matrix."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from tiebreak.core import cli

if TYPE_CHECKING:  # heavy imports (scipy.stats, pandas) happen in run()
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand."""
    p = sub.add_parser("compare", help="paired comparison of models on the same instructions")
    cli.add_db_argument(p)
    p.add_argument("models", nargs="*", metavar="MODEL", help="two models (or none with --all)")
    p.add_argument("--all", action="store_true", help="all pairs, Holm-corrected p-values")
    p.add_argument("--annotator", metavar="NAME", help="annotator group")
    p.add_argument("--reference", metavar="NAME", help="reference generator")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=run)


def _panel(frame: pd.DataFrame, models: list[str]) -> tuple[pd.DataFrame, str, str]:
    """The one (reference, annotator group) whose labels cover ``models``; else a CliError."""
    panels: list[tuple[str, str, pd.DataFrame]] = []
    for (ref, group), block in frame.groupby(["generator_1", "annotator"], sort=True):
        if all(m in set(block["generator_2"]) for m in models):
            panels.append((str(ref), str(group), block))
    if not panels:
        raise cli.CliError(
            f"no annotator group and reference has labels for all of {', '.join(models)}"
        )
    if len(panels) > 1:
        choices = "; ".join(f"--annotator {g} --reference {r}" for r, g, _ in panels)
        raise cli.CliError(f"several annotator groups/references fit, choose one: {choices}")
    ref, group, block = panels[0]
    return block, ref, group


def run(args: argparse.Namespace) -> int:
    """Print the comparison."""
    import pandas as pd

    from tiebreak.core.metrics import sql as q
    from tiebreak.core.metrics.paired import paired_compare, paired_matrix, per_instruction_scores

    if args.all == bool(args.models):
        raise cli.CliError("give exactly two models, or --all (and no models)")
    if not args.all and len(args.models) != 2:
        raise cli.CliError(f"compare needs exactly two models, got {len(args.models)}")
    store = cli.open_store(args.db, create=args.create)
    try:
        frame = q.metric_frame(
            store,
            groups=[args.annotator] if args.annotator else None,
            references=[args.reference] if args.reference else None,
            generators=args.models or None,
        )
        if frame.empty:
            raise cli.CliError("no annotations in this selection")
        frame = frame[frame["generator_1"] != frame["generator_2"]]
        if args.all:
            counts = frame.groupby(["generator_1", "annotator"])["generator_2"].nunique()
            if len(counts) > 1 and not (args.annotator and args.reference):
                choices = "; ".join(f"--annotator {g} --reference {r}" for r, g in counts.index)
                raise cli.CliError(f"--all works on one annotator group and reference: {choices}")
            block, ref, group = frame, frame["generator_1"].iloc[0], frame["annotator"].iloc[0]
            result = paired_matrix(per_instruction_scores(block))
        else:
            block, ref, group = _panel(frame, args.models)
            result = pd.DataFrame([paired_compare(per_instruction_scores(block), *args.models)])
    finally:
        store.close()
    if args.format == "json":
        out = {
            "annotator": group,
            "reference": ref,
            "pairs": json.loads(result.to_json(orient="records")),
        }
        print(json.dumps(out, indent=2))
        return 0
    print(f"annotator {group} vs reference {ref}: paired t on s = preference - 1 per instruction")
    shown = result.copy()
    for col in ("mean_a", "mean_b", "diff", "se", "ci_low", "ci_high"):
        shown[col] = (100 * shown[col]).round(2)
    cols = [
        "model_a",
        "model_b",
        "n",
        "mean_a",
        "mean_b",
        "diff",
        "ci_low",
        "ci_high",
        "t",
        "p_value",
    ]
    cols += ["p_holm"] if "p_holm" in shown else []
    print(shown[cols].to_string(index=False))
    for _, r in result.iterrows():
        if r["note"]:
            print(f"  note {r['model_a']} vs {r['model_b']}: {r['note']}")
    return 0
