"""The one base class of expected failures: every entry point catches it once and shows its message."""

from __future__ import annotations

__all__ = ["TiebreakError"]


class TiebreakError(Exception):
    """An expected failure whose message says what went wrong and where (file, record, field, name).

    The CLI's ``main`` prints it as ``tiebreak: error: MESSAGE`` (exit status 2) and the GUI's
    error reporter shows it; anything that is not a TiebreakError is a bug and goes to the log
    with its traceback.
    """
