"""Console entry point: ``tiebreak`` opens the app; other commands are core's CLI (no Qt loaded)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tiebreak.core.cli import add_db_argument, run_guarded
from tiebreak.core.cli import main as core_main


def _register_gui(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the desktop app (the default)")
    add_db_argument(p)
    p.add_argument(
        "--screenshot",
        metavar="PNG",
        help="render the first screen to this PNG file and exit (for checks without a display)",
    )
    p.set_defaults(func=_run_gui)


def _run_gui(args: argparse.Namespace) -> int:
    from tiebreak.gui.app import run  # Qt is imported only when the app opens

    return run(db=args.db, screenshot=args.screenshot)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``tiebreak [COMMAND]``; no command means ``gui``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].lower().endswith(".tiebreak"):  # an annotator pack: crowd mode
        from tiebreak.gui.crowd_labelling import run_pack

        return run_pack(argv[0])
    if not argv or argv[0].startswith("--db"):
        argv = ["gui", *argv]
    if argv[0] == "gui" and not {"-h", "--help"} & set(argv):
        return _fast_gui(argv[1:])
    return core_main(argv, extra=_register_gui)


def _fast_gui(args: list[str]) -> int:
    """Open the app with only the ``gui`` parser (no CLI command module is imported)."""
    parser = argparse.ArgumentParser(prog="tiebreak gui")
    sub = parser.add_subparsers(dest="command")
    _register_gui(sub)
    return run_guarded(_run_gui, parser.parse_args(["gui", *args]))


if __name__ == "__main__":
    sys.exit(main())
