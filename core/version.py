"""The installed version, read from the package metadata (pyproject.toml is the one source)."""

from __future__ import annotations

from functools import cache

__all__ = ["version"]


@cache
def version() -> str:
    """Tiebreak's version (looked up on first use: importlib.metadata costs ~0.1 s at start-up)."""
    from importlib import metadata

    try:
        return metadata.version("tiebreak")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "0+unknown"
