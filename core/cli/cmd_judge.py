"""``tiebreak judge``: run an LLM judge over comparisons (online or through the Batch API)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from tiebreak.core.cli import CliError, add_db_argument, refresh_lc

if TYPE_CHECKING:  # the judge (openai, the store) is imported in run(): `tiebreak --help` stays fast
    from tiebreak.core.judge import Progress

EPILOG = """\
The API key comes from $OPENAI_API_KEY, else $TIEBREAK_API_KEY, else the OS keyring (service
'tiebreak', user 'openai-api-key'); it is never written anywhere. The endpoint is --base-url, else
$OPENAI_BASE_URL, else OpenAI (local OpenAI-compatible servers need no key). Verdicts are stored
under the annotator named after the configuration (plus '@MODEL' when --model overrides it and
'+both' with --both-orders); a rerun skips what is judged and answers from the cache.
--config also takes an AlpacaEval evaluator configuration as it is: a path to its configs.yaml, or
the name of one in the installed alpaca_eval package (e.g. weighted_alpaca_eval_gpt4_turbo); its
verdicts are stored under its AlpacaEval name. With --reference R and --generator G, the two
generators' outputs are first paired on the same instruction (output_1 = R), as AlpacaEval does.
Exit status: 0 when every comparison got a verdict, 1 when some failed (rerun to retry them),
2 for usage errors, 130 when interrupted (verdicts so far are kept).
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``judge`` subcommand."""
    p = sub.add_parser("judge", help="run an LLM judge over comparisons", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_db_argument(p)
    p.add_argument("--config", metavar="NAME",
                   help="judge configuration: a name, a .toml path, or an AlpacaEval configs.yaml / name")  # fmt: skip
    p.add_argument("--list-configs", action="store_true", help="list configurations and exit")
    p.add_argument("--model", help="override the configuration's model")
    p.add_argument("--base-url", metavar="URL", help="OpenAI-compatible endpoint (.../v1)")
    p.add_argument("--reference", metavar="GEN", help="only comparisons against this reference")
    p.add_argument("--generator", metavar="GEN", nargs="+", action="extend", default=[],
                   help="only these candidate generators")  # fmt: skip
    p.add_argument("--labelled-by", metavar="GROUP",
                   help="only comparisons labelled by this annotator group (e.g. the humans, to calibrate)")  # fmt: skip
    p.add_argument("--seeds", type=_seeds, help="comma-separated seeds, e.g. 0,1,2,3")
    p.add_argument("--both-orders", action="store_true", default=None,
                   help="judge both orders and average (reports position consistency)")  # fmt: skip
    p.add_argument("--concurrency", type=_positive, default=8, help="parallel calls (default 8)")
    p.add_argument("--batch", action="store_true", help="use the OpenAI Batch API (resumable)")
    p.add_argument("--poll-seconds", type=float, default=30.0, help="batch polling interval")
    p.add_argument("--limit", type=_positive, help="at most N comparisons")
    p.add_argument("--force", action="store_true", help="ask again even when judged or cached")
    p.set_defaults(func=run)


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds: expected integers like 0,1,2,3, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds: distinct integers >= 0 needed, got {text!r}")
    return seeds


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


class ProgressBar:
    """A one-line progress bar on a stream (stderr), redrawn at most 10 times a second.

    While a Batch API run is polled, the reports carry the batch's request counts (a
    ``BatchProgress``): the bar then shows the batch status and its completed / failed / total
    requests, and every poll is drawn.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width, self._last, self._drawn = width, 0.0, 0

    def __call__(self, p: Progress) -> None:
        batch_text = getattr(p, "batch_text", None)  # a BatchProgress (tiebreak.core.judge.batch) while polling
        now = time.monotonic()
        if batch_text is None and now - self._last < 0.1 and p.finished < p.total:
            return
        self._last = now
        if batch_text is not None:
            done, total = p.requests_done, p.requests_total  # type: ignore[attr-defined]
            filled = int(self.width * done / total) if total else 0
            text = f"{batch_text()}  ${p.dollars:.4f}"
        else:
            filled = int(self.width * p.finished / p.total) if p.total else self.width
            text = f"{p.finished}/{p.total}  ${p.dollars:.4f}  {p.failed} failed"
        bar = "#" * filled + "." * (self.width - filled)
        line = f"[{bar}] {text} "
        self.stream.write("\r" + line.ljust(self._drawn))  # blank what a longer line left behind
        self._drawn = len(line)
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        self.stream.write("\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    """Run the judge described by ``args`` and print the summary."""
    from tiebreak.core.judge import (
        CancelToken,
        annotator_name,
        resolve_api_key,
        run_judge,
    )
    from tiebreak.core.judge.batch import run_batch
    from tiebreak.core.judge.report import format_summary

    if args.list_configs:
        return _list_configs()
    options = _options(args)
    config = options.config
    store = open_named_store(args.db, args.create)
    try:
        prepare_scope(store, args.reference, list(args.generator), args.labelled_by)
    except BaseException:
        store.close()
        raise
    cancel, bar = CancelToken(), ProgressBar()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        try:
            kwargs: dict[str, Any] = {"api_key": resolve_api_key(), "progress": bar, "cancel": cancel}
            if args.batch:
                summary, run_id = run_batch(store, options, poll_interval=args.poll_seconds, **kwargs)
            else:
                summary, run_id = run_judge(store, options, **kwargs)
            name = run_annotator(store, run_id) or annotator_name(config, args.model, args.both_orders)
        finally:
            signal.signal(signal.SIGINT, previous)
            bar.close()
        # the verdicts are committed: refit the LC panels they made stale (never fails the run; not after ^C)
        stored = summary.finished - summary.failed
        refreshed = refresh_lc(store) if stored and not summary.cancelled else None
    finally:
        store.close()
    print(format_summary(name, run_id, summary))
    if refreshed is not None:
        print(refreshed, file=sys.stderr)
    if summary.cancelled:
        return 130
    return 1 if summary.failed else 0


def _list_configs() -> int:
    from tiebreak.core.judge.alpaca_config import installed_alpaca_names

    for name, config in sorted(_configs().items()):
        print(f"{name:28} {config.source:8} {config.model:28} {config.description}")
    for name in installed_alpaca_names():
        print(f"{name:28} alpaca_eval (installed AlpacaEval evaluator configuration)")
    return 0


def _options(args: argparse.Namespace) -> Any:
    """The run's JudgeOptions from the arguments (the configuration loaded and checked)."""
    from tiebreak.core.judge import JudgeOptions, load_config

    if not args.config:
        raise CliError("judge: --config NAME is required (see --list-configs)")
    config = load_config(args.config)
    if args.both_orders and config.alpaca is not None:
        raise CliError("judge: --both-orders is not available with an AlpacaEval configuration "
                       "(AlpacaEval asks one order per seed)")  # fmt: skip
    return JudgeOptions(
        config=config, model=args.model, base_url=args.base_url, reference=args.reference,
        generators=tuple(args.generator), seeds=args.seeds, both_orders=args.both_orders,
        concurrency=args.concurrency, limit=args.limit, force=args.force, labelled_by=args.labelled_by,
    )  # fmt: skip


def open_named_store(db_arg: str | None, create: bool = False) -> Any:
    """The database the user names (or the default); no command loads the bundled sample into it,
    so a judge never quietly judges the sample instead of the user's comparisons."""
    from tiebreak.core.cli import open_store

    return open_store(db_arg, create=create)


def prepare_scope(store: Any, reference: str | None, generators: list[str], labelled_by: str | None = None) -> None:
    """Check the names, pair ``reference`` with each generator, and refuse an empty scope.

    Raises
    ------
    CliError
        Unknown generators, disagreeing duplicates, or a scope matching no comparison (the
        message lists the generators, comparisons and annotators that exist).
    """
    from tiebreak.core.judge import sql
    from tiebreak.core.judge.pairing import check_scope, pair_generators

    known = set(store.generators())
    unknown = sorted(n for n in {reference, *generators} - known if n is not None)
    if unknown:
        raise CliError(f"unknown generator(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if reference:
        for generator in generators:
            print(pair_generators(store, reference, generator).describe(), file=sys.stderr)
    found = sql.candidates(store, reference=reference, generators=generators or None, limit=1,
                           labelled_by=labelled_by)  # fmt: skip
    check_scope(store, reference, generators, len(found), labelled_by)


def run_annotator(store: Any, run_id: int) -> str | None:
    """The annotator (configuration version) a run stored its verdicts under."""
    row = store.conn.execute("SELECT a.name FROM judge_runs r JOIN annotators a ON a.id = r.annotator_id "
                             "WHERE r.id = ?", (run_id,)).fetchone()  # fmt: skip
    return None if row is None else str(row[0])


def _configs() -> dict[str, Any]:
    from tiebreak.core.judge import list_configs

    return list_configs()
