"""``tiebreak coordinator``: settings a coordinator keeps in the database (what labellers see)."""

from __future__ import annotations

import argparse

from tiebreak.core.cli import add_db_argument, open_store


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``coordinator`` subcommand."""
    p = sub.add_parser("coordinator", help="show or change what labellers see (pooled statistics)")
    p.add_argument("--pooled-stats", choices=("on", "off"),
                   help="labellers see pooled win rates and judge agreement while labelling (default off)")  # fmt: skip
    add_db_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Change the setting when asked, then print it."""
    from tiebreak.core.identity import (  # the store: not for --help
        pooled_statistics_shown,
        show_pooled_statistics,
    )

    store = open_store(args.db)
    try:
        if args.pooled_stats is not None:
            show_pooled_statistics(store, args.pooled_stats == "on")
        shown = pooled_statistics_shown(store)
    finally:
        store.close()
    print(f"pooled statistics for labellers: {'on' if shown else 'off'}")
    return 0
