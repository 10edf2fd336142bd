"""``tiebreak spotcheck`` end to end on a database file: sample, estimate, export, mark."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.core.test_spotcheck_audit import build_spotcheck_store
from tiebreak.core.cli import main
from tiebreak.core.domain import Choice
from tiebreak.core.review.session import ReviewSession
from tiebreak.core.store import Store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "t.sqlite"
    s = Store(path, create=True)
    build_spotcheck_store(s, humans=10)
    s.close()
    return path


def test_sample_review_estimate_export(db, tmp_path, capsys):
    assert main(["spotcheck", "sample", "--db", str(db), "--judge", "gpt4_judge", "--n", "12",
                 "--design", "stratified", "--seed", "3"]) == 0
    assert "drew 12 new item(s) (stratified, seed 3)" in capsys.readouterr().out
    s = Store(db, create=True)
    session = ReviewSession.open_review(s, "alice", "gpt4_judge")
    for k in range(12):
        blind = session.record(Choice.LEFT if k % 2 else Choice.RIGHT)
        reveal = session.reveal(blind)
        session.accept(reveal) if k % 3 else session.override(reveal, Choice.TIE_GOOD, "length")
    s.close()
    assert main(["spotcheck", "estimate", "--db", str(db), "--judge", "gpt4_judge",
                 "--audit", "gpt4_judge/audit", "--format", "json", "--width", "0.2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["design"] == "stratified" and out["warnings"] == []
    assert {r["method"] for r in out["rows"]} == {"judge-only", "human-only", "PPI", "PPI++", "Horvitz-Thompson"}
    assert main(["spotcheck", "estimate", "--db", str(db), "--judge", "gpt4_judge",
                 "--audit", "gpt4_judge/audit"]) == 0
    table = capsys.readouterr().out
    assert "PPI++" in table and "model-a" in table
    csv_path = tmp_path / "r.csv"
    assert main(["spotcheck", "export", "--db", str(db), "--out", str(csv_path)]) == 0
    df = pd.read_csv(csv_path)
    assert len(df) == 12 and set(df["action"]) == {"accept", "override"}
    assert (df.loc[df["action"] == "override", "reason"] == "length").all()
    alpaca = tmp_path / "a.json"
    assert main(["spotcheck", "export", "--db", str(db), "--out", str(alpaca), "--format", "alpaca"]) == 0
    recs = json.loads(alpaca.read_text())
    assert len(recs) == 12 and {r["annotator"] for r in recs} == {"reviewers"}
    assert all(r["preference"] in (1.0, 1.5, 2.0) or r["review_action"] == "accept" for r in recs)
    jl = tmp_path / "r.jsonl"
    assert main(["spotcheck", "export", "--db", str(db), "--out", str(jl), "--format", "jsonl"]) == 0
    assert len(jl.read_text().splitlines()) == 12


def test_imported_humans_warning_and_errors(db, capsys):
    assert main(["spotcheck", "estimate", "--db", str(db), "--judge", "gpt4_judge", "--audit", "humans",
                 "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert "treated as a UNIFORM random sample" in captured.err
    assert captured.out.startswith("model,method,estimate")
    assert main(["spotcheck", "mark", "--db", str(db), "--group", "humans", "--stream", "adhoc"]) == 0
    capsys.readouterr()
    assert main(["spotcheck", "estimate", "--db", str(db), "--judge", "gpt4_judge", "--audit", "humans"]) == 2
    assert "marked ad-hoc" in capsys.readouterr().err
    assert main(["spotcheck", "sample", "--db", str(db), "--judge", "nope", "--n", "3"]) == 2
    assert "no verdicts of judge group 'nope'" in capsys.readouterr().err


def test_spotcheck_on_the_sample_given_explicitly(sample_db, tmp_path, capsys):
    judge = "weighted_alpaca_eval_gpt4_turbo"
    assert main(["spotcheck", "sample", "--db", str(sample_db), "--judge", judge, "--n", "30", "--seed", "1"]) == 0
    assert "30 of 1200 verdicts are in the stream" in capsys.readouterr().out
    assert main(["spotcheck", "export", "--db", str(sample_db), "--out", str(tmp_path / "x.csv")]) == 2
    assert "no reviewed items" in capsys.readouterr().err


def test_a_fresh_database_does_not_get_the_sample(tmp_path, capsys):
    db = tmp_path / "fresh.sqlite"
    judge = "weighted_alpaca_eval_gpt4_turbo"
    assert main(["spotcheck", "sample", "--db", str(db), "--judge", judge, "--n", "30"]) == 2
    assert "no database at" in capsys.readouterr().err and not db.exists()
    assert main(["spotcheck", "sample", "--db", str(db), "--create", "--judge", judge, "--n", "30"]) == 2
    assert "30 of 1200" not in capsys.readouterr().out
