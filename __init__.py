"""Tiebreak: the repository root installed as one package (tiebreak.core, tiebreak.gui, ...)."""

from importlib import metadata

try:
    __version__ = metadata.version("tiebreak")  # the one source: pyproject.toml
except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"
