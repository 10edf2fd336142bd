"""``tiebreak annotators``: annotator quality of a crowd group and its under-annotated items."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING

from tiebreak.core import cli
from tiebreak.core.text_safety import csv_frame

if TYPE_CHECKING:
    from tiebreak.core.crowd.quality import CrowdReport

#: Text-table columns: (frame column, header, format).
_COLUMNS = (
    ("n_labels", "labels", "{:d}"), ("n_shared", "shared", "{:d}"), ("tie_share", "ties", "{:.3f}"),
    ("median_seconds", "median_s", "{:.1f}"), ("agreement", "agree", "{:.3f}"),
    ("ds_accuracy", "DS_acc", "{:.3f}"),
)  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``annotators`` subcommand."""
    p = sub.add_parser("annotators", help="annotator quality (agreement, Dawid-Skene, speed) and item overlap")
    cli.add_db_argument(p)
    p.add_argument("--group", default="humans", help="human annotator group (default: humans)")
    p.add_argument("--overlap", metavar="K", type=int, default=3, help="target labels per item (default 3)")
    p.add_argument(
        "--too-fast", metavar="SECONDS", type=float, default=5.0,
        help="flag annotators whose median active time per label is below this (default 5)",
    )  # fmt: skip
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    cli.add_exclude_argument(p)
    p.set_defaults(func=run)


def compute(db: str | None, group: str, overlap: int, too_fast: float, exclude: list[str] | None = None) -> CrowdReport:
    """The crowd report of ``group`` in the database (without excluded workers)."""
    from tiebreak.core.crowd.quality import crowd_report
    from tiebreak.core.crowd.selection import drop_workers

    store = cli.open_store(db)
    try:
        frame = drop_workers(store.annotations_frame(with_texts=False), cli.excluded(store, exclude))
    finally:
        store.close()
    return crowd_report(frame, group, overlap=overlap, too_fast=too_fast)


def run(args: argparse.Namespace) -> int:
    """Print the per-annotator table, the under-annotated items and the notes."""
    from tiebreak.core.metrics.agreement import TIE_RULE

    if args.overlap < 1:
        raise cli.CliError(f"--overlap must be at least 1, got {args.overlap}")
    if not args.too_fast >= 0:
        raise cli.CliError(f"--too-fast must be a non-negative number of seconds, got {args.too_fast}")
    report = compute(args.db, args.group, args.overlap, args.too_fast, args.exclude)
    under = [int(c) for c in report.under_annotated["comparison_id"]]
    if args.format == "csv":
        print(csv_frame(report.annotators).to_csv(index=False), end="")
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
    elif args.format == "json":
        rows = [{k: _json(v) for k, v in row.items()} for row in report.annotators.to_dict("records")]
        print(json.dumps({
            "group": report.group, "overlap": report.overlap, "too_fast_seconds": report.too_fast,
            "annotators": rows, "n_items": len(report.items), "under_annotated": under,
            "notes": report.notes, "tie_rule": TIE_RULE,
        }, indent=2))  # fmt: skip
    else:
        print(render_table(report))
        shown = ", ".join(map(str, under[:20])) + (" ..." if len(under) > 20 else "")
        print(f"under-annotated items (< {report.overlap} labels): {len(under)}" + (f": {shown}" if under else ""))
        for note in [*report.notes, f"agreement = 1 - |label - majority of the others|; majority tie rule: {TIE_RULE}"]:
            print(f"note: {note}")
    return 0


def _json(v: object) -> object:
    """NaN -> None, numpy scalars -> Python."""
    v = getattr(v, "item", lambda: v)()
    return None if isinstance(v, float) and math.isnan(v) else v


def render_table(report: CrowdReport) -> str:
    """Fixed-width table, one annotator a line, flags spelled out at the end."""
    table = report.annotators
    width = max([len("annotator"), *(len(str(a)) for a in table["annotator"])]) + 2
    lines = [f"{'annotator':<{width}}" + "".join(f"{h:>10}" for _, h, _ in _COLUMNS) + "  flags"]
    for row in table.to_dict("records"):
        cells = "".join(
            f"{'—':>10}" if isinstance(row[c], float) and math.isnan(row[c]) else f"{fmt.format(row[c]):>10}"
            for c, _, fmt in _COLUMNS
        )
        lines.append(f"{row['annotator']:<{width}}{cells}  {row['note']}".rstrip())
    return "\n".join(lines)
