"""``tiebreak judge`` end to end against the fake server."""

from __future__ import annotations

from core.cli import main
from core.store import Store
from tests.support.judge_data import add_comparisons


def make_db(tmp_path, n=5):
    db = tmp_path / "t.sqlite"
    store = Store(db)
    add_comparisons(store, n)
    add_comparisons(store, 2, reference="ref", generator="other", prefix="Other")
    store.close()
    return db


def test_judge_cli_runs_summarises_and_resumes(tmp_path, fake_openai, capsys):
    db = make_db(tmp_path)
    args = ["judge", "--db", str(db), "--config", "tiebreak-ranking", "--base-url",
            fake_openai.base_url, "--reference", "ref", "--generator", "model",
            "--seeds", "0,1", "--concurrency", "4"]  # fmt: skip
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "10/10" in err and "[" in err
    assert "done (new verdicts): 10" in out and "failed:              0" in out
    assert "dollars spent:       $0.0" in out and "seconds per 1,000" in out
    assert fake_openai.chat_requests == 10
    assert main(args) == 0
    out, _ = capsys.readouterr()
    assert "already judged:      10" in out and fake_openai.chat_requests == 10
    store = Store(db)
    df = store.annotations_frame(sources=["judge"])
    assert set(df["generator_2"]) == {"model"} and len(df) == 10
    config = store.conn.execute("SELECT kind, config FROM annotators WHERE name = 'tiebreak-ranking'").fetchone()
    assert config[0] == "judge" and '"model": "gpt-4o-mini' in config[1]
    store.close()


def test_judge_cli_limit_and_both_orders(tmp_path, fake_openai, capsys):
    db = make_db(tmp_path)
    assert main(["judge", "--db", str(db), "--config", "tiebreak-weighted", "--base-url",
                 fake_openai.base_url, "--limit", "3", "--both-orders"]) == 0  # fmt: skip
    out, _ = capsys.readouterr()
    assert "judge tiebreak-weighted+both" in out and "position consistency: 1.000 (3/3" in out
    assert fake_openai.chat_requests == 6


def test_judge_cli_user_errors(tmp_path, capsys):
    assert main(["judge", "--db", str(tmp_path / "x.sqlite"), "--config", "nope"]) == 2
    assert "judge configuration 'nope' not found" in capsys.readouterr().err
    db = make_db(tmp_path)
    assert main(["judge", "--db", str(db), "--config", "tiebreak-ranking", "--generator", "gpt-9"]) == 2
    assert "unknown generator(s) gpt-9 (known: model, other, ref)" in capsys.readouterr().err
    assert main(["judge", "--list-configs"]) == 0
    assert "tiebreak-weighted" in capsys.readouterr().out
