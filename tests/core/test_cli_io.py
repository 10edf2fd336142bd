"""``tiebreak import / export / info`` driven through tiebreak.core.cli.main with --db in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiebreak.core.cli import main
from tiebreak.core.store import Store

BASE = {"instruction": "Say hi", "output_1": "hi", "output_2": "hello", "generator_1": "ref",
        "generator_2": "model", "annotator": "judge_x", "preference": 1.75}  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_info_on_the_sample(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = sample_db
    code, out, _ = run(capsys, "info", "--db", str(db))
    assert code == 0 and str(db) in out
    assert "annotations   1200" in out and "weighted_alpaca_eval_gpt4_turbo (judge)" in out
    code, out, _ = run(capsys, "info", "--db", str(db), "--format", "json")
    info = json.loads(out)
    assert info["database"] == str(db)
    assert {k: info[k] for k in ("instructions", "outputs", "comparisons", "annotators", "annotations")} == {
        "instructions": 200, "outputs": 1400, "comparisons": 1200, "annotators": 1, "annotations": 1200}  # fmt: skip


def test_info_uses_tiebreak_db(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIEBREAK_DB", str(tmp_path / "env.sqlite"))
    code, out, err = run(capsys, "info", "--format", "json")
    assert code == 2 and "no database at" in err and "--create" in err  # named: never created implicitly
    code, out, _ = run(capsys, "info", "--format", "json", "--create")
    info = json.loads(out)
    assert code == 0 and info["database"] == str(tmp_path / "env.sqlite")
    assert info["comparisons"] == 0  # and no sample


def test_import_prints_what_was_added(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, src = tmp_path / "t.sqlite", tmp_path / "a.json"
    src.write_text(json.dumps([BASE, {**BASE, "generator_2": "m2", "output_2": "yo"}]), "utf-8")
    code, out, _ = run(capsys, "import", str(src), "--db", str(db), "--create")
    assert code == 0
    assert f"{src} (alpaca-eval): 2 records, added 1 instructions, 3 outputs, 2 comparisons, 1 annotators, 2 annotations" in out
    code, out, _ = run(capsys, "import", str(src), "--db", str(db))
    assert code == 0 and "already imported" in out and "nothing new" in out


def test_import_error_exits_non_zero_and_changes_nothing(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sample_db
    before = list(Store(db).conn.iterdump())
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps([{**BASE, "generator_2": "new"}]), "utf-8")
    bad.write_text(json.dumps([BASE, {**BASE, "preference": 3}]), "utf-8")
    code, out, err = run(capsys, "import", str(good), str(bad), "--db", str(db))
    assert code == 2 and out == ""
    assert f"{bad}: record 2: field preference: 3.0 is outside [1, 2]" in err
    assert list(Store(db).conn.iterdump()) == before


def test_import_format_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, src = tmp_path / "t.sqlite", tmp_path / "rows.txt"
    src.write_text(json.dumps(BASE) + "\n", "utf-8")
    code, out, _ = run(capsys, "import", str(src), "--db", str(db), "--format", "jsonl", "--create")
    assert code == 0 and "(jsonl): 1 records" in out
    with pytest.raises(SystemExit):  # argparse rejects an unknown format name
        main(["import", str(src), "--db", str(db), "--format", "xml"])


def test_export_then_import_elsewhere(sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, out_file = sample_db, tmp_path / "x.csv"
    code, out, _ = run(capsys, "export", "--db", str(db), "--format", "csv", "-o", str(out_file),
                       "--annotator", "weighted_alpaca_eval_gpt4_turbo", "--generator", "claude-2.1")  # fmt: skip
    assert code == 0 and f"wrote 200 annotations to {out_file} (csv)" in out
    code, out, _ = run(capsys, "import", str(out_file), "--db", str(db))
    assert code == 0 and "200 records, added nothing; 200 already present" in out  # same identities
    other = tmp_path / "other.sqlite"
    Store(other, create=True).close()  # an existing empty database stays empty: no sample
    code, out, _ = run(capsys, "import", str(out_file), "--db", str(other))
    assert code == 0 and "200 records, added 200 instructions" in out


def test_export_unknown_names(sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = sample_db
    code, _, err = run(capsys, "export", "--db", str(db), "--format", "jsonl", "-o", str(tmp_path / "o.jsonl"),
                       "--generator", "gpt-9")  # fmt: skip
    assert code == 2 and "unknown generator 'gpt-9'" in err
    code, _, err = run(capsys, "export", "--db", str(db), "--format", "jsonl", "-o", str(tmp_path / "o.jsonl"),
                       "--annotator", "nobody")  # fmt: skip
    assert code == 2 and "unknown annotator group 'nobody'" in err
    assert not (tmp_path / "o.jsonl").exists()


def test_db_that_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_db = tmp_path / "a.json"
    not_db.write_text(json.dumps([BASE]), "utf-8")
    code, _, err = run(capsys, "info", "--db", str(not_db))
    assert code == 2 and f"{not_db} is not a SQLite database, so not a Tiebreak database" in err
    assert json.loads(not_db.read_text("utf-8")) == [BASE]  # untouched
