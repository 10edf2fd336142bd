"""``tiebreak configs``: the versions of a judge configuration stored with its verdicts, and their diff."""

from __future__ import annotations

import argparse

from tiebreak.core import cli


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``configs`` subcommand (``versions`` and ``diff``)."""
    p = sub.add_parser("configs", help="versions of a judge configuration and the diff between them",
                       description="An edit of a judge configuration is a new version: its verdicts are "
                       "stored under NAME.v2, NAME.v3... with the configuration's text and hash.")  # fmt: skip
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    v = actions.add_parser("versions", help="list the versions of a judge (hash, verdicts)")
    cli.add_db_argument(v)
    v.add_argument("name", help="the judge's name (its first version)")
    v.set_defaults(func=run)
    d = actions.add_parser("diff", help="unified diff between two versions (default: the last two)")
    cli.add_db_argument(d)
    d.add_argument("name", help="the judge's name (its first version)")
    d.add_argument("old", nargs="?", help="version: number, vN, annotator name or hash")
    d.add_argument("new", nargs="?", help="version: number, vN, annotator name or hash")
    d.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List the versions or print the diff."""
    from tiebreak.core.cli.cmd_judge import open_named_store
    from tiebreak.core.judge.versions import diff_versions, versions

    store = open_named_store(args.db, getattr(args, "create", False))
    try:
        if args.action == "diff":
            print(diff_versions(store, args.name, args.old, args.new))
            return 0
        print(f"{'version':8} {'annotator':40} {'config hash':17} verdicts")
        for version in versions(store, args.name):
            print(f"v{version.number:<7} {version.name:40} {version.config_hash:17} {version.verdicts}")
        return 0
    finally:
        store.close()
