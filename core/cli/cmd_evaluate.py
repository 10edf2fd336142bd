"""``tiebreak evaluate``: what ``alpaca_eval evaluate`` does: import, pair, judge, leaderboard row."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING, Any

from tiebreak.core.cli import CliError, add_db_argument, refresh_lc
from tiebreak.core.cli.cmd_judge import _seeds

if TYPE_CHECKING:
    from tiebreak.core.store import Store

EPILOG = """\
Both files are AlpacaEval model_outputs.json files (instruction, output, generator); the reference
is output_1, as in AlpacaEval. --config takes a Tiebreak judge or an AlpacaEval evaluator (a path to
its configs.yaml, or an installed name such as weighted_alpaca_eval_gpt4_turbo). Everything is
stored in --db (default: $TIEBREAK_DB, else the user's database), never mixed with the bundled
sample; a rerun asks only what is missing. LC is printed when it can be computed (with one model it
is fitted without instruction difficulty; the lc_method column says how).
"""

ROW_COLUMNS = ("win_rate", "standard_error", "length_controlled_winrate", "lc_standard_error",
               "n_wins", "n_wins_base", "n_draws", "n_total", "discrete_win_rate", "avg_length",
               "lc_method")  # fmt: skip
PERCENT = ("win_rate", "standard_error", "length_controlled_winrate", "lc_standard_error", "discrete_win_rate")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser("evaluate", help="import, pair, judge and print the leaderboard row (AlpacaEval's evaluate)",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_db_argument(p)
    p.add_argument("--model-outputs", required=True, metavar="FILE", help="the model's model_outputs.json")
    p.add_argument("--reference-outputs", required=True, metavar="FILE", help="the reference's outputs")
    p.add_argument("--config", required=True, metavar="NAME", help="judge configuration (Tiebreak or AlpacaEval)")
    p.add_argument("--base-url", metavar="URL", help="OpenAI-compatible endpoint (.../v1)")
    p.add_argument("--model", help="override the configuration's model")
    p.add_argument("--seeds", type=_seeds, help="comma-separated judge seeds (default: the configuration's)")
    p.add_argument("--concurrency", type=int, default=8, help="parallel calls (default 8)")
    p.add_argument("--format", choices=["table", "json"], default="table", help="how to print the row")
    p.set_defaults(func=run)


def _generator(path: str, parsed: Any) -> str:
    names = sorted({o.generator for o in parsed.outputs})
    if len(names) != 1:
        raise CliError(f"{path}: expected the outputs of one generator, found {len(names)}: "
                       f"{', '.join(names[:5]) or 'none'}")  # fmt: skip
    return names[0]


def _read(args: argparse.Namespace) -> tuple[list[Any], str, str]:
    from tiebreak.core.formats.readers import read_file

    model = read_file(args.model_outputs, "model-outputs")
    reference = read_file(args.reference_outputs, "model-outputs")
    gen, ref = _generator(args.model_outputs, model), _generator(args.reference_outputs, reference)
    if gen == ref:
        raise CliError(f"the model and the reference are both named {gen!r}")
    return [reference, model], ref, gen


def leaderboard_row(store: Store, reference: str, generator: str, annotator: str) -> dict[str, Any]:
    """The leaderboard row of ``generator`` vs ``reference`` by ``annotator`` (percent scale)."""
    from tiebreak.core.metrics.model_table import BoardOptions, compute

    table = compute(store, BoardOptions(annotator=annotator, reference=reference), bootstrap=False)
    key = (generator, reference, annotator)
    if key not in table.index:
        raise CliError(f"no verdict of {annotator} on {generator} vs {reference}")
    row = table.loc[key]  # type: ignore[index]
    out: dict[str, Any] = {"generator": generator, "reference": reference, "annotator": annotator}
    for col in ROW_COLUMNS:
        value = row.get(col)
        if isinstance(value, float) and math.isnan(value):
            value = None
        elif col in PERCENT and value is not None:
            value = 100 * float(value)
        elif col in ("n_wins", "n_wins_base", "n_draws", "n_total", "avg_length") and value is not None:
            value = int(value)
        out[col] = value
    return out


def run(args: argparse.Namespace) -> int:
    """Import both files, pair them, judge the pairs and print the leaderboard row."""
    from tiebreak.core.cli import cmd_judge
    from tiebreak.core.formats.importer import import_parsed
    from tiebreak.core.judge import (
        JudgeOptions,
        load_config,
        resolve_api_key,
        run_judge,
    )
    from tiebreak.core.judge.report import format_summary

    config = load_config(args.config)
    parsed, reference, generator = _read(args)
    store = cmd_judge.open_named_store(args.db, getattr(args, "create", False))
    try:
        for file_report in import_parsed(store, parsed).files:
            print(file_report.summary(), file=sys.stderr)
        cmd_judge.prepare_scope(store, reference, [generator])
        options = JudgeOptions(config=config, model=args.model, base_url=args.base_url, reference=reference,
                               generators=(generator,), seeds=args.seeds, concurrency=max(1, args.concurrency))  # fmt: skip
        bar = cmd_judge.ProgressBar()
        try:
            summary, run_id = run_judge(store, options, api_key=resolve_api_key(), progress=bar)
        finally:
            bar.close()
        name = cmd_judge.run_annotator(store, run_id) or config.name
        print(format_summary(name, run_id, summary), file=sys.stderr)
        print(refresh_lc(store), file=sys.stderr)  # the import and the verdicts made LC panels stale
        row = leaderboard_row(store, reference, generator, name)
    finally:
        store.close()
    _print(row, args.format)
    return 1 if summary.failed else 0


def _print(row: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(row))
        return
    print(f"{row['generator']} vs {row['reference']}, judged by {row['annotator']}")
    for col in ROW_COLUMNS:
        value = row[col]
        text = "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"  {col:27} {text}")
