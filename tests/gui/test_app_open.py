"""The app opens databases like the CLI: the sample only into the default database, on first launch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiebreak.core.paths import default_db_path
from tiebreak.gui.app import open_context


def test_first_launch_fills_the_default_database_with_the_sample() -> None:
    ctx, error = open_context(None)
    assert error is None and ctx is not None
    assert ctx.db_path == default_db_path() and ctx.store.counts()["annotations"] == 1200
    ctx.store.close()


def test_a_named_database_is_never_created_nor_given_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, error = open_context(tmp_path / "named.sqlite")
    assert ctx is None and "no database at" in error and not (tmp_path / "named.sqlite").exists()
    monkeypatch.setenv("TIEBREAK_DB", str(tmp_path / "env.sqlite"))
    ctx, error = open_context(None)
    assert ctx is None and "no database at" in error
    from tiebreak.core.sample import create_database

    create_database(tmp_path / "env.sqlite").close()  # New… in the app
    ctx, error = open_context(None)
    assert error is None and ctx.store.counts()["comparisons"] == 0
    ctx.store.close()
    with pytest.raises(Exception, match="already exists"):
        create_database(tmp_path / "env.sqlite")
