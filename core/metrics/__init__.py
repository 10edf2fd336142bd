"""Metrics as pure functions over arrays and frames (no SQL, no Qt): win rates, LC, intervals."""

from __future__ import annotations

from tiebreak.core.errors import TiebreakError

__all__ = ["MetricsError", "EmptySelection"]


class MetricsError(TiebreakError, ValueError):
    """A metric cannot be computed from the given input (the message says what and where)."""


class EmptySelection(MetricsError):
    """The selection holds no rows at all (nothing to compute a metric from)."""
