"""The bundled sample: never loaded by a command into a named database; ``tiebreak demo`` on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiebreak.core.cli import main
from tiebreak.core.paths import default_db_path


def info(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["info", "--format", "json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_no_command_loads_the_sample_into_a_named_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "mine.sqlite"
    assert info(capsys, "--db", str(db), "--create")["comparisons"] == 0
    for argv in (["leaderboard"], ["judge", "--config", "tiebreak-ranking"], ["export", "--format", "csv",
                 "-o", str(tmp_path / "x.csv")], ["spotcheck", "sample", "--judge", "j", "--n", "3"]):  # fmt: skip
        main([*argv, "--db", str(db)])
    capsys.readouterr()
    assert info(capsys, "--db", str(db))["comparisons"] == 0
    monkeypatch.setenv("TIEBREAK_DB", str(tmp_path / "env.sqlite"))
    assert info(capsys, "--create")["comparisons"] == 0


def test_judge_on_an_empty_database_does_not_judge_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "e.sqlite"
    code = main(["judge", "--db", str(db), "--create", "--config", "tiebreak-ranking",
                 "--reference", "gpt4_1106_preview", "--generator", "claude-2.1"])  # fmt: skip
    assert code == 2 and "unknown generator(s)" in capsys.readouterr().err
    assert info(capsys, "--db", str(db))["annotations"] == 0


def test_the_default_database_is_created_empty_by_commands(capsys: pytest.CaptureFixture[str]) -> None:
    out = info(capsys)
    assert out["database"] == str(default_db_path()) and out["comparisons"] == 0


def test_demo_loads_the_sample_on_request_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db)]) == 0
    out, err = capsys.readouterr()
    assert "added 200 instructions, 1400 outputs, 1200 comparisons" in out
    assert "leaderboard cache: 1 panel(s), 6 row(s) refitted" in err  # the first leaderboard fits nothing
    assert info(capsys, "--db", str(db))["annotations"] == 1200
    assert main(["demo", "--db", str(db)]) == 0
    assert "nothing new" in capsys.readouterr().out
    assert info(capsys, "--db", str(db))["annotations"] == 1200
    assert main(["demo"]) == 0  # the default database
    capsys.readouterr()
    assert info(capsys)["annotations"] == 1200


def test_demo_refuses_what_is_not_ours(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--db", str(tmp_path / "no-dir" / "d.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("x", "utf-8")
    assert main(["demo", "--db", str(text)]) == 2 and text.read_text("utf-8") == "x"
