"""Tiebreak core: storage, formats, metrics and judging, with no Qt."""
