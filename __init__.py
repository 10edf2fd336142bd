"""Tiebreak: the repository root installed as one package (tiebreak.core, tiebreak.gui, ...)."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``tiebreak.__version__``, read from the installed metadata (the one source: pyproject.toml).

    Looked up on first use: importlib.metadata costs ~0.1 s, which neither the app's start nor
    a command needs.
    """
    if name != "__version__":
        raise AttributeError(f"module 'tiebreak' has no attribute {name!r}")
    from importlib import metadata

    try:
        version = metadata.version("tiebreak")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        version = "0+unknown"
    globals()["__version__"] = version
    return version
