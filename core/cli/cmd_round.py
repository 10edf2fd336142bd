"""``tiebreak round``: crowd rounds (create with packs, merge, status, reissue, exclude, events)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from tiebreak.core import cli

if TYPE_CHECKING:
    import pandas as pd

    from tiebreak.core.store import Store


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``round`` and its subcommands."""
    p = sub.add_parser("round", help="crowd rounds: assignment, annotator packs, merge, status, reissue")
    rs = p.add_subparsers(dest="round_command", metavar="ACTION", required=True)
    c = rs.add_parser("create", help="balanced assignment with overlap K and one pack per annotator")
    c.add_argument("name")
    c.add_argument("--annotators", required=True, metavar="A,B,...", help="comma-separated annotator names")
    c.add_argument("--overlap", required=True, type=int, metavar="K", help="annotators per item")
    c.add_argument("--items", metavar="FILTER", help="reference=R,generator=A|B,dataset=D,limit=N (default: all)")
    c.add_argument("--gold", metavar="FILE", help="known-answer pairs (JSON/JSONL with preference)")
    c.add_argument("--out", default=".", metavar="DIR", help="folder for the packs (default: .)")
    c.add_argument("--group", default="humans", help="annotator group of the workers (default: humans)")
    c.add_argument("--guidelines", metavar="FILE", help="text file shown to labellers")
    c.add_argument("--repeats", type=int, default=3, help="swapped repeats per annotator (default 3)")
    c.add_argument("--identical", type=int, default=2, help="identical-output checks per annotator (default 2)")
    c.add_argument("--seed", type=int, default=0)
    c.set_defaults(func=run_create)
    m = rs.add_parser("merge", help="merge packs or events files (idempotent; bad files are reported)")
    m.add_argument("files", nargs="+", metavar="FILE")
    m.set_defaults(func=run_merge)
    s = rs.add_parser("status", help="progress per annotator, items below K, flags, quality")
    s.add_argument("name")
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.set_defaults(func=run_status)
    r = rs.add_parser("reissue", help="top-up pack with items below K or a removed worker's items")
    r.add_argument("name")
    r.add_argument("--to", required=True, metavar="WORKER")
    r.add_argument("--from", dest="from_", metavar="WORKER", help="take this (removed) worker's items")
    r.add_argument("--out", default=".", metavar="DIR")
    r.set_defaults(func=run_reissue)
    e = rs.add_parser("exclude", help="remove a worker from a round (--undo brings it back)")
    e.add_argument("name")
    e.add_argument("worker")
    e.add_argument("--undo", action="store_true")
    e.set_defaults(func=run_exclude)
    v = rs.add_parser("events", help="write a pack's events as a (small) JSONL file")
    v.add_argument("pack")
    v.add_argument("-o", "--output", required=True, metavar="FILE")
    v.set_defaults(func=run_events)
    for parser in (c, m, s, r, e):
        cli.add_db_argument(parser)


def _guard(fn: Callable[[Store, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run ``fn(store, args)`` on the opened database; expected failures become CliError."""

    def run(args: argparse.Namespace) -> int:
        store = cli.open_store(getattr(args, "db", None))
        try:
            return int(fn(store, args) or 0)
        finally:
            store.close()

    return run


@_guard
def run_create(store: Store, args: argparse.Namespace) -> int:
    """Create the round and write the packs."""
    from pathlib import Path

    from tiebreak.core.crowd.round import create_round

    guidelines = None
    if args.guidelines:
        try:
            guidelines = Path(args.guidelines).read_text(encoding="utf-8")
        except OSError as exc:
            raise cli.CliError(f"--guidelines {args.guidelines}: {exc.strerror or exc}") from exc
    workers = [w.strip() for w in args.annotators.split(",") if w.strip()]
    made = create_round(store, args.name, workers, args.overlap, args.out, items=args.items, gold_file=args.gold,
                        group=args.group, guidelines=guidelines, repeats=args.repeats, identical=args.identical,
                        seed=args.seed)  # fmt: skip
    print(f"round {args.name}: {made.n_items} items x {args.overlap} annotators, {made.n_gold} gold items")
    for w, path in made.packs.items():
        print(f"  {w}: {made.loads[w]} items -> {path}")
    return 0


def run_merge(args: argparse.Namespace) -> int:
    """Merge every file; report each; exit 1 when some file failed (the others are merged)."""
    from tiebreak.core.crowd.merge import merge_files

    store = cli.open_store(args.db)
    try:
        report = merge_files(store, args.files)
        # committed: refit the LC panels the new labels made stale (never fails the merge)
        refreshed = cli.refresh_lc(store) if any(f.ok and f.n_new for f in report.files) else None
    finally:
        store.close()
    for f in report.files:
        if f.ok:
            print(f"{f.path}: {f.annotator} ({f.round}): {f.n_new} new of {f.n_events} events, {f.n_changed} label(s) changed")
        else:
            print(f"{f.path}: NOT MERGED: {f.message}", file=sys.stderr)
    if refreshed is not None:
        print(refreshed, file=sys.stderr)
    return 1 if report.n_failed else 0


def _plain(v: object) -> object:
    v = getattr(v, "item", lambda: v)()
    return None if isinstance(v, float) and math.isnan(v) else v


@_guard
def run_status(store: Store, args: argparse.Namespace) -> int:
    """Print the round's status (and quality)."""
    from tiebreak.core.crowd.quality import round_quality
    from tiebreak.core.crowd.status import load_round, round_status

    data = load_round(store, args.name)
    status = round_status(store, args.name)
    quality = round_quality(store, args.name, data)
    if args.format == "json":
        out = status.to_json()
        out["quality"] = [{k: _plain(v) for k, v in r.items()} for r in quality.to_dict("records")]
        print(json.dumps(out, indent=2))
        return 0
    print(f"round {status.name}: {status.n_items} items, target {status.overlap} labels each")
    print(f"{'annotator':<16}{'assigned':>9}{'done':>7}{'left':>7}  last merged")
    for a in status.annotators:
        mark = " (excluded)" if a["excluded"] else ""
        print(f"{a['annotator']:<16}{a['assigned']:>9}{a['done']:>7}{a['remaining']:>7}  {a['last_merged'] or 'never'}{mark}")
    unl = sum(1 for b in status.below if b["n_labels"] == 0)
    print(f"items below {status.overlap} labels: {len(status.below)} ({unl} without any label)")
    print(f"open flags: {len(status.flags)}")
    for f in status.flags[:10]:
        print(f"  comparison {f['comparison_id']} by {f['annotator']}: {f['note'] or ''}")
    print(quality_table(quality))
    return 0


def quality_table(q: pd.DataFrame) -> str:
    """Fixed-width quality table with status and reasons."""
    def f(v: object, fmt: str) -> str:
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)

    lines = [f"{'annotator':<16}{'gold':>11}{'self':>7}{'left':>7}{'med_s':>7}{'agree':>7}{'DS':>7}  status"]
    for r in q.to_dict("records"):
        gold = f"{r['gold_accuracy']:.2f}/{r['gold_n']}" if r["gold_n"] else "—"
        lines.append(f"{r['annotator']:<16}{gold:>11}{f(r['self_consistency'], '{:.2f}'):>7}"
                     f"{f(r['left_share'], '{:.2f}'):>7}{f(r['median_seconds'], '{:.1f}'):>7}"
                     f"{f(r['agreement'], '{:.2f}'):>7}{f(r['ds_accuracy'], '{:.2f}'):>7}  {r['status']}"
                     + (f": {r['reasons']}" if r["reasons"] else ""))  # fmt: skip
    return "\n".join(lines)


@_guard
def run_reissue(store: Store, args: argparse.Namespace) -> int:
    """Write a top-up pack."""
    from tiebreak.core.crowd.status import reissue

    path, n = reissue(store, args.name, args.to, args.out, from_=args.from_)
    print(f"reissued {n} item(s) to {args.to} -> {path}")
    return 0


@_guard
def run_exclude(store: Store, args: argparse.Namespace) -> int:
    """Exclude (or re-include) a worker."""
    from tiebreak.core.crowd.status import exclude_worker

    exclude_worker(store, args.name, args.worker, not args.undo)
    print(f"{args.worker} {'back in' if args.undo else 'excluded from'} round {args.name}")
    return 0


def run_events(args: argparse.Namespace) -> int:
    """Write a pack's events file."""
    from tiebreak.core.crowd.events import write_events

    n = write_events(args.pack, args.output)
    print(f"wrote {n} events to {args.output}")
    return 0
