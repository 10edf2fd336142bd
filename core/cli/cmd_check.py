"""``tiebreak check``: the full integrity check of a database (SQLite's, foreign keys)."""

from __future__ import annotations

import argparse

from tiebreak.core.cli import add_db_argument, open_store


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``check`` subcommand."""
    p = sub.add_parser(
        "check",
        help="run the full integrity check of the database",
        description="Run SQLite's integrity_check and foreign_key_check on the database (opening "
        "runs the quicker quick_check on small files). Exit status 1 when a problem is found.",
    )
    add_db_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print 'ok' or the problems found."""
    store = open_store(args.db, create=args.create)
    try:
        problems = store.check(full=True)
    finally:
        store.close()
    if not problems:
        print(f"{store.path}: ok")
        return 0
    for line in problems[:50]:
        print(f"{store.path}: {line}")
    if len(problems) > 50:
        print(f"... and {len(problems) - 50} more")
    return 1
