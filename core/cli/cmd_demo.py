"""``tiebreak demo``: load the bundled AlpacaEval sample into a database (only ever on request)."""

from __future__ import annotations

import argparse
import sys

from tiebreak.core.cli import refresh_lc


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    p = sub.add_parser(
        "demo",
        help="load the bundled AlpacaEval sample (creates the database if needed)",
        description="Load the bundled sample (real AlpacaEval annotations) into a database, so "
        "that every screen and command has something to show. No other command loads it. The "
        "database is created when it does not exist (its folder must exist); loading twice adds "
        "nothing.",
    )
    p.add_argument("--db", metavar="PATH",
                   help="SQLite database (default: $TIEBREAK_DB, else tiebreak.sqlite in the user data dir)")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the sample and say what it added."""
    from tiebreak.core.paths import default_db_path
    from tiebreak.core.sample import load_sample, open_database

    path = default_db_path(args.db)
    store = open_database(path, create=True)
    try:
        report = load_sample(store)
        refreshed = refresh_lc(store) if report.added else None  # the first leaderboard fits nothing
    finally:
        store.close()
    parts = ", ".join(f"{n} {t}" for t, n in report.new.items() if n)
    new = f"added {parts}" if parts else "nothing new (already loaded)"
    print(f"sample loaded into {path}: {new}")
    if refreshed is not None:
        print(refreshed, file=sys.stderr)
    return 0
