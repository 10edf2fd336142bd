"""The user's real flow: ``tiebreak import`` then ``tiebreak leaderboard``; the leaderboard after the
import finds every LC panel current (no annotation row read) and prints what a cold computation prints."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tiebreak.core.cli import main
from tiebreak.core.metrics import lc_fast, sql_arrays

JUDGE = "weighted_alpaca_eval_gpt4_turbo"


def _annotations(alpaca_dir: Path, model: str) -> str:
    return str(alpaca_dir / "results" / model / JUDGE / "annotations.json")


def _leaderboard(capsys, db: Path) -> str:
    assert main(["leaderboard", "--db", str(db), "--format", "json"]) == 0
    return capsys.readouterr().out


def _cold(capsys, db: Path) -> str:
    """The leaderboard of a copy of ``db`` with its LC cache emptied (every panel fitted afresh)."""
    cold = db.with_name("cold.sqlite")
    with sqlite3.connect(db) as a, sqlite3.connect(cold) as b:
        a.backup(b)
        b.execute("DELETE FROM lc_cache")
    return _leaderboard(capsys, cold)


@pytest.fixture
def row_reads(monkeypatch) -> list[int]:
    """Counts the annotation rows the leaderboard reads through ``sql_arrays.lc_rows`` (one entry per read)."""
    reads: list[int] = []

    def counted(*args, **kwargs):
        rows = sql_arrays.lc_rows(*args, **kwargs)
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(lc_fast, "lc_rows", counted)
    return reads


def test_the_first_leaderboard_after_an_import_reads_no_annotation_row(alpaca_dir, tmp_path, capsys, row_reads):
    db = tmp_path / "flow.sqlite"
    first = [_annotations(alpaca_dir, m) for m in ("alpaca-7b", "gpt-3.5-turbo-1106", "NullModel")]
    assert main(["import", "--db", str(db), "--create", *first]) == 0
    assert "leaderboard cache: 1 panel(s), 3 row(s) refitted" in capsys.readouterr().err
    assert row_reads == [3 * 805]  # the import's refresh read its panel's rows (the leaderboard's own path)
    row_reads.clear()
    before = _leaderboard(capsys, db)
    assert row_reads == []  # so the leaderboard did not

    assert main(["import", "--db", str(db), _annotations(alpaca_dir, "claude-2.1")]) == 0
    assert "leaderboard cache: 1 panel(s), 4 row(s) refitted" in capsys.readouterr().err
    row_reads.clear()
    after = _leaderboard(capsys, db)
    assert row_reads == [] and '"claude-2.1"' in after and after != before
    assert after == _cold(capsys, db)
    assert row_reads == [4 * 805]  # the cold copy read every row


def test_importing_nothing_new_says_nothing_about_the_cache(alpaca_dir, tmp_path, capsys):
    db = tmp_path / "again.sqlite"
    path = _annotations(alpaca_dir, "alpaca-7b")
    assert main(["import", "--db", str(db), "--create", path]) == 0
    capsys.readouterr()
    assert main(["import", "--db", str(db), path]) == 0
    assert "leaderboard cache" not in capsys.readouterr().err
