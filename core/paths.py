"""Where Tiebreak's files live: the user's database, config directory and packaged resources."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

APP_NAME = "tiebreak"


def user_data_dir() -> Path:
    """Return the per-user data directory (created on demand)."""
    path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_config_dir() -> Path:
    """Return the per-user configuration directory (created on demand)."""
    path = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the database path: ``--db`` wins, then ``TIEBREAK_DB``, then the data directory."""
    if cli_value:
        return Path(cli_value).expanduser()
    env = os.environ.get("TIEBREAK_DB")
    if env:
        return Path(env).expanduser()
    return user_data_dir() / "tiebreak.sqlite"


def resource_path(*parts: str) -> Path:
    """Path of a file shipped in the ``resources`` package (works from a wheel)."""
    ref = resources.files("tiebreak.resources").joinpath(*parts)
    return Path(str(ref))


def sample_path(*parts: str) -> Path:
    """Path of a file shipped in the ``data`` package (the bundled sample)."""
    ref = resources.files("tiebreak.data").joinpath(*parts)
    return Path(str(ref))
