"""Start-up stays light: the CLI parser, `tiebreak info`, opening a database and the app's start path."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "scipy", "statsmodels", "openai", "httpx", "pyqtgraph")


def loaded_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return which heavy packages it left imported."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY + ('sqlite_utils',)!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
                         check=True, timeout=120)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def leaderboard_once(source: Path, db: Path, capsys) -> tuple[Path, str]:
    """A copy of ``source`` at ``db`` after one `tiebreak leaderboard` (which computes and caches); its output."""
    import sqlite3

    from tiebreak.core.cli import main

    with sqlite3.connect(source) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    assert main(["leaderboard", "--db", str(db)]) == 0
    return db, capsys.readouterr().out


def test_cli_parser_imports_no_heavy_package():
    """`tiebreak --help` builds every subcommand's parser: none may import pandas, the store..."""
    loaded = loaded_after("from tiebreak.core.cli import build_parser\nfrom tiebreak.gui.launcher import _register_gui\n"
                          "build_parser(_register_gui).format_help()")  # fmt: skip
    assert not any(loaded.values()), loaded


def test_opening_a_database_at_head_imports_no_heavy_package(tmp_path):
    """The store checks ``_sqlite_migrations`` itself: at head, sqlite-utils (and pandas) stay out."""
    db = tmp_path / "t.sqlite"
    created = loaded_after(f"from tiebreak.core.store import Store\nStore({str(db)!r}, create=True).close()")
    assert created["sqlite_utils"], "a new database is migrated by sqlite-utils"
    loaded = loaded_after(
        f"from tiebreak.core.store import Store\ns = Store({str(db)!r})\n"
        "assert s.counts()['annotations'] == 0\ns.close()"
    )
    assert not loaded["sqlite_utils"] and not loaded["pandas"] and not loaded["numpy"], loaded


def test_tiebreak_info_imports_no_heavy_package(tmp_path):
    """`tiebreak info` on an existing database: only its own command module, no pandas, no sqlite-utils."""
    db = tmp_path / "t.sqlite"
    loaded_after(f"from tiebreak.core.sample import open_database\nopen_database({str(db)!r}, create=True).close()")
    loaded = loaded_after(
        "import sys\nfrom tiebreak.core.cli import main\n"
        f"assert main(['info', '--db', {str(db)!r}]) == 0\n"
        "assert 'tiebreak.core.cli.cmd_info' in sys.modules\n"
        "assert 'tiebreak.core.cli.cmd_leaderboard' not in sys.modules  # registered by name only"
    )
    assert not any(loaded.values()), loaded


def test_nothing_rewrites_sys_modules():
    """No start-up trick: no module of the package assigns to or deletes from ``sys.modules``."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("core", "gui")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"sys\.modules\[[^\]]+\]\s*=|del\s+sys\.modules", path.read_text(encoding="utf-8"))
    ]
    assert not offenders
    assert not (ROOT / "core" / "lightimport.py").exists()


def test_app_start_path_and_live_stats_import_no_heavy_package():
    """The GUI start path (tiebreak.gui.app, the labelling screen) and tiebreak.core.labelling.live stay free of pandas/scipy."""
    loaded = loaded_after("import tiebreak.gui.app, tiebreak.gui.main_window, tiebreak.gui.labelling.screen, "
                          "tiebreak.core.labelling.live, tiebreak.core.labelling.session")
    assert not any(loaded[m] for m in HEAVY), loaded


@pytest.mark.parametrize(
    ("cli_module", "cli_name", "source_module", "source_name"),
    [
        ("tiebreak.core.cli.cmd_spotcheck", "DESIGNS", "tiebreak.core.review.sampling", "DESIGNS"),
        ("tiebreak.core.cli.cmd_spotcheck", "EXPORT_FORMATS", "tiebreak.core.review.export", "EXPORT_FORMATS"),
    ],
)
def test_cli_choices_equal_their_source(cli_module, cli_name, source_module, source_name):
    """Parser choices kept in the light CLI modules equal the constants of the heavy modules."""
    import importlib

    cli = getattr(importlib.import_module(cli_module), cli_name)
    source = getattr(importlib.import_module(source_module), source_name)
    assert tuple(cli) == tuple(source)


def test_leaderboard_from_a_current_cache_imports_no_heavy_package(metrics_sample_db, tmp_path, capsys):
    """`tiebreak leaderboard` (table and JSON) with its LC cache current: no pandas, numpy, scipy, sklearn."""
    db, expected = leaderboard_once(metrics_sample_db, tmp_path / "lb.sqlite", capsys)
    for fmt in ("table", "json"):
        loaded = loaded_after(
            "import sys, io, contextlib\nfrom tiebreak.core.cli import main\nout = io.StringIO()\n"
            f"with contextlib.redirect_stdout(out):\n    assert main(['leaderboard', '--db', {str(db)!r}, '--format', {fmt!r}]) == 0\n"
            f"assert {fmt!r} == 'json' or out.getvalue() == {expected!r}\n"
            "assert 'sklearn' not in sys.modules"
        )
        assert not any(loaded.values()), (fmt, loaded)


def test_judge_and_review_screens_import_neither_openai_nor_scipy():
    """A first visit imports its screen's modules: openai (seconds) waits for a call, scipy for a fit."""
    loaded = loaded_after("import tiebreak.gui.judge_panel, tiebreak.gui.workers, tiebreak.gui.review\n"
                          "import tiebreak.core.judge.estimate, tiebreak.core.judge.batch")  # fmt: skip
    assert not loaded["openai"] and not loaded["httpx"] and not loaded["scipy"], loaded


def test_cold_leaderboard_fits_lc_without_pandas_or_scipy(metrics_sample_db, tmp_path, capsys):
    """`tiebreak leaderboard` with the LC cache empty (data changed): numpy fits LC; no pandas, scipy, sklearn."""
    import sqlite3

    db, expected = leaderboard_once(metrics_sample_db, tmp_path / "cold.sqlite", capsys)
    for fmt in ("table", "json"):
        with sqlite3.connect(db) as con:
            con.execute("DELETE FROM lc_cache")
        loaded = loaded_after(
            "import sys, io, contextlib, sqlite3\nfrom tiebreak.core.cli import main\nout = io.StringIO()\n"
            f"with contextlib.redirect_stdout(out):\n    assert main(['leaderboard', '--db', {str(db)!r}, '--format', {fmt!r}]) == 0\n"
            f"assert {fmt!r} == 'json' or out.getvalue() == {expected!r}\n"
            f"assert sqlite3.connect({str(db)!r}).execute('SELECT count(*) FROM lc_cache').fetchone()[0] > 0\n"
            "assert 'sklearn' not in sys.modules"
        )
        assert loaded["numpy"] and not loaded["pandas"] and not loaded["scipy"], (fmt, loaded)
