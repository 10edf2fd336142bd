"""``tiebreak spotcheck``: draw audit samples, estimate human-anchored win rates, export reviews."""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import TYPE_CHECKING

from tiebreak.core.cli import CliError, add_db_argument, open_store
from tiebreak.core.text_safety import csv_frame

if TYPE_CHECKING:  # pandas, scipy and the store are imported by the actions: `--help` stays fast
    import pandas as pd


#: ``tiebreak.core.review.sampling.DESIGNS`` and ``tiebreak.core.review.export.EXPORT_FORMATS`` (those modules
#: import numpy / pandas; tests keep these equal).
DESIGNS = ("uniform", "stratified", "uncertainty")
EXPORT_FORMATS = ("csv", "jsonl", "alpaca")

TABLE_COLUMNS = ["model", "method", "estimate", "lower", "upper", "standard_error", "n_labelled", "n_total",
                 "lam", "more_reviews", "notes"]  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``spotcheck`` with its ``sample``, ``estimate``, ``export`` and ``mark`` actions."""
    p = sub.add_parser("spotcheck", help="spot-check judge verdicts: audit samples, estimates, export")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    s = actions.add_parser("sample", help="draw a random audit sample of a judge's verdicts")
    add_db_argument(s)
    s.add_argument("--judge", required=True, help="judge group name")
    s.add_argument("--n", type=int, required=True, help="number of items to draw (expected number "
                   "for the uncertainty design)")
    s.add_argument("--design", choices=DESIGNS, default="uniform")
    s.add_argument("--audit", help="audit stream name (default: JUDGE/audit)")
    s.add_argument("--seed", type=int, help="random seed (default: a fresh one, stored)")
    s.set_defaults(func=run_sample)

    e = actions.add_parser("estimate", help="judge-only, human-only, PPI, PPI++ and HT win rates")
    add_db_argument(e)
    e.add_argument("--judge", required=True, help="judge group name")
    e.add_argument("--audit", required=True, help="audit stream, or a human group (imported labels)")
    e.add_argument("--format", choices=("table", "csv", "json"), default="table")
    e.add_argument("--label", choices=("blind", "final"), default="blind",
                   help="human label of a review: before (blind, default) or after the reveal")
    e.add_argument("--width", type=float, help="target interval width (fraction) for 'more reviews'")
    e.set_defaults(func=run_estimate)

    x = actions.add_parser("export", help="reviewed items as CSV / JSONL / AlpacaEval annotations")
    add_db_argument(x)
    x.add_argument("--out", required=True, help="output file")
    x.add_argument("--force", action="store_true", help="replace an existing output file (never a database)")
    x.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    x.add_argument("--audit", help="only this audit stream")
    x.add_argument("--stream", choices=("random", "adhoc"), help="only random or ad-hoc items")
    x.add_argument("--label", choices=("final", "blind"), default="final",
                   help="human preference written to AlpacaEval annotations")
    x.set_defaults(func=run_export)

    m = actions.add_parser("mark", help="mark an imported human group as a random sample or ad hoc")
    add_db_argument(m)
    m.add_argument("--group", required=True, help="human annotator group")
    m.add_argument("--stream", choices=("random", "adhoc"), required=True)
    m.set_defaults(func=run_mark)


def run_sample(args: argparse.Namespace) -> int:
    """Draw and store the sample; print what was drawn."""
    from tiebreak.core.review.audit import sample_audit

    store = open_store(args.db, create=args.create)
    try:
        rep = sample_audit(store, args.judge, args.n, args.design, audit_group=args.audit, seed=args.seed)
    finally:
        store.close()
    print(f"audit {rep.audit_group!r}: drew {rep.n_new} new item(s) ({rep.design}, seed {rep.seed}); "
          f"{rep.n_in_stream} of {rep.population} verdicts are in the stream")
    for note in rep.notes:
        print(f"note: {note}")
    return 0


def run_estimate(args: argparse.Namespace) -> int:
    """Print the estimates per model in the chosen format; warnings go to stderr."""
    import pandas as pd

    from tiebreak.core.review.audit import estimate_audit

    store = open_store(args.db, create=args.create)
    try:
        est = estimate_audit(store, args.judge, args.audit, label=args.label, target_width=args.width)
    finally:
        store.close()
    for w in est.warnings:
        print(f"warning: {w}", file=sys.stderr)
    df = pd.DataFrame(est.rows, columns=TABLE_COLUMNS)
    if args.format == "json":
        print(json.dumps({"judge": est.judge, "audit": est.audit, "design": est.design,
                          "warnings": est.warnings,
                          "rows": json.loads(df.to_json(orient="records"))}, indent=2))  # fmt: skip
    elif args.format == "csv":
        buf = io.StringIO()
        csv_frame(df).to_csv(buf, index=False)
        print(buf.getvalue(), end="")
    else:
        print(f"judge {est.judge} · audit {est.audit} · design {est.design} · 95% intervals")
        print(_table(df))
    return 0


def _table(df: pd.DataFrame) -> str:
    import pandas as pd

    view = df.copy()
    for col in ("estimate", "lower", "upper", "standard_error", "lam"):
        view[col] = view[col].map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
    view["more_reviews"] = view["more_reviews"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return view.rename(columns={"standard_error": "se", "n_labelled": "n", "n_total": "N"}).to_string(index=False)


def run_export(args: argparse.Namespace) -> int:
    """Write the reviewed items; say how many were written and left out."""
    from tiebreak.core.review.export import reviewed_items, write_export

    store = open_store(args.db, create=args.create)
    try:
        items = reviewed_items(store, args.audit, args.stream)
        if items.empty:
            raise CliError("export: no reviewed items match")
        written, missing = write_export(items, args.out, args.format, args.label, force=args.force,
                                        protect=[store.path])
    finally:
        store.close()
    extra = f"; {missing} left out (no {args.label} label)" if missing else ""
    print(f"wrote {written} reviewed item(s) to {args.out} ({args.format}){extra}")
    return 0


def run_mark(args: argparse.Namespace) -> int:
    """Store the mark of a human group."""
    from tiebreak.core.review import sql as rs

    store = open_store(args.db, create=args.create)
    try:
        if args.group not in {g["group"] for g in store.groups() if g["kind"] == "human"}:
            raise CliError(f"--group {args.group!r}: no human group of that name")
        with store.transaction() as tx:
            rs.mark_group(tx, args.group, args.stream)
    finally:
        store.close()
    print(f"human group {args.group!r} marked {args.stream}")
    return 0
