"""Tiebreak core: storage, formats, metrics and judging, with no Qt."""

__version__ = "0.1.0"
