"""Start-up stays light: the CLI parser, the app's start path and tiebreak.core.labelling.live import no heavy package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "scipy", "statsmodels", "openai", "httpx")


def loaded_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return which heavy packages it left imported."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY + ('sqlite_utils',)!r}}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
                         check=True, timeout=120)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cli_parser_imports_no_heavy_package():
    """`tiebreak --help` builds every subcommand's parser: none may import pandas, the store..."""
    loaded = loaded_after("from tiebreak.core.cli import build_parser\nfrom tiebreak.gui.launcher import _register_gui\n"
                          "build_parser(_register_gui).format_help()")  # fmt: skip
    assert not any(loaded.values()), loaded


def test_store_opens_without_pandas_after_light_import():
    """The CLI's main() and the app import sqlite-utils with pandas hidden; the store still works."""
    loaded = loaded_after(
        "from tiebreak.core.lightimport import import_sqlite_utils_without_pandas\n"
        "assert import_sqlite_utils_without_pandas()\n"
        "assert not import_sqlite_utils_without_pandas()  # already done: no-op\n"
        "from tiebreak.core.store import Store\ns = Store(memory=True)\nassert s.counts()['annotations'] == 0"
    )
    assert loaded["sqlite_utils"] and not loaded["pandas"] and not loaded["numpy"], loaded
    later = loaded_after("from tiebreak.core.lightimport import import_sqlite_utils_without_pandas\n"
                         "import_sqlite_utils_without_pandas()\nimport pandas")  # fmt: skip
    assert later["pandas"], "pandas must still import normally afterwards"


def test_app_start_path_and_live_stats_import_no_heavy_package():
    """The GUI start path (tiebreak.gui.app, the labelling screen) and tiebreak.core.labelling.live stay free of pandas/scipy."""
    loaded = loaded_after("import tiebreak.gui.app, tiebreak.gui.labelling.screen, tiebreak.core.labelling.live, tiebreak.core.labelling.session")
    assert not any(loaded[m] for m in HEAVY), loaded


@pytest.mark.parametrize(
    ("cli_module", "cli_name", "source_module", "source_name"),
    [
        ("tiebreak.core.cli.cmd_export", "EXPORT_FORMATS", "tiebreak.core.formats.exporter", "EXPORT_FORMATS"),
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
