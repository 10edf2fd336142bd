"""Shared fixtures: isolated user dirs, a memory store, the AlpacaEval sample files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
#: Real AlpacaEval files, gzip-compressed, with their licence note (tests/data/alpaca_eval/SOURCE.md).
ALPACA_PACKED = ROOT / "tests" / "data" / "alpaca_eval"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user's data, config or settings during tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("TIEBREAK_DB", raising=False)
    for var in ("OPENAI_API_KEY", "TIEBREAK_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # as on a machine without a keyring service; tests that need one set it


@pytest.fixture
def store():
    """An empty in-memory store."""
    from tiebreak.core.store import Store

    s = Store(memory=True)
    yield s
    s.close()


@pytest.fixture(scope="session")
def alpaca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real AlpacaEval files of tests/data/alpaca_eval, unpacked once into a temporary folder."""
    from tests.support.alpaca_data import unpack

    return unpack(ALPACA_PACKED, tmp_path_factory.mktemp("alpaca_eval"))


@pytest.fixture
def fake_openai():
    """A fake OpenAI-compatible server on 127.0.0.1 (judge tests; see tests/support/fake_openai)."""
    from tests.support.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="session")
def metrics_sample_db(alpaca_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with every AlpacaEval sample file imported (metrics tests; read-only use)."""
    from tiebreak.core.formats.importer import import_files
    from tiebreak.core.store import Store

    path = tmp_path_factory.mktemp("metrics") / "sample.sqlite"
    results = alpaca_dir / "results"
    files = sorted(results.glob("*/model_outputs.json")) + sorted(results.glob("*/*/annotations.json"))
    s = Store(path, create=True)
    import_files(s, files)
    s.close()
    return path


@pytest.fixture(scope="session")
def _sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database with the bundled sample loaded explicitly (as ``tiebreak demo`` does)."""
    from tiebreak.core.sample import load_sample, open_database

    path = tmp_path_factory.mktemp("sample_template") / "sample.sqlite"
    s = open_database(path, create=True)
    load_sample(s)
    s.close()
    return path


@pytest.fixture
def sample_db(_sample_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of a database holding the bundled sample (no command loads it implicitly)."""
    import shutil

    path = tmp_path / "t.sqlite"
    shutil.copyfile(_sample_template, path)
    return path
