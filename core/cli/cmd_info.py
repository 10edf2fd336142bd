"""``tiebreak info``: where the database and the log are, and what the database holds."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tiebreak.core.cli import add_db_argument, open_store
from tiebreak.core.logs import log_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``info`` subcommand."""
    p = sub.add_parser("info", help="show the database path, the log path and what the database holds")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    add_db_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the counts as a table or one JSON object."""
    store = open_store(args.db, create=args.create)
    db = store.path
    try:
        info: dict[str, Any] = {"database": str(db), "log": str(log_path()), **store.counts(), "groups": store.groups(),
                "generators": store.generators()}  # fmt: skip
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return 0
    print(f"database      {info['database']}")
    print(f"log           {info['log']}")
    for key in ("instructions", "outputs", "comparisons", "annotators", "annotations"):
        print(f"{key:<13} {info[key]}")
    for g in info["groups"]:
        print(f"  group {g['group']} ({g['kind']}): {g['annotations']} annotations")
    print(f"generators    {', '.join(info['generators'])}")
    return 0
