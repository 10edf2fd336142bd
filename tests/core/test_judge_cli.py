"""``tiebreak judge`` end to end against the fake server."""

from __future__ import annotations

from tests.support.judge_data import add_comparisons
from tiebreak.core.cli import main
from tiebreak.core.store import Store


def make_db(tmp_path, n=5):
    db = tmp_path / "t.sqlite"
    store = Store(db, create=True)
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
    store = Store(db, create=True)
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


def test_judge_cli_batch_progress_line_shows_request_counts(tmp_path, fake_openai, capsys):
    db = make_db(tmp_path, n=4)
    fake_openai.batch_polls = 5
    assert main(["judge", "--db", str(db), "--config", "tiebreak-ranking", "--base-url", fake_openai.base_url,
                 "--generator", "model", "--batch", "--poll-seconds", "0.01"]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    frames = err.split("\r")
    batch_id = next(iter(fake_openai.batches))
    polls = [f for f in frames if f"batch {batch_id} " in f]
    assert len(polls) == 5  # every poll is drawn
    assert any(f"batch {batch_id} in_progress: 2/4 requests, 0 failed" in f for f in polls)
    assert f"batch {batch_id} completed: 4/4 requests, 0 failed" in polls[-1] and "[####" in polls[-1]
    assert "4/4" in frames[-1] and "done (new verdicts): 4" in out


def test_progress_bar_blanks_the_rest_of_a_longer_line():
    import io

    from tiebreak.core.cli.cmd_judge import ProgressBar
    from tiebreak.core.judge import Progress
    from tiebreak.core.judge.batch import BatchProgress

    stream = io.StringIO()
    bar = ProgressBar(stream, width=10)
    bar(BatchProgress(0, 3, 0.0, 0, 0, batch_id="b-1", status="in_progress", requests_completed=1,
                      requests_failed=1, requests_total=4))  # fmt: skip
    bar(Progress(3, 3, 0.5, 0, 0))
    first, second = stream.getvalue().split("\r")[1:]
    assert first.startswith("[#####.....] batch b-1 in_progress: 2/4 requests, 1 failed  $0.0000")
    assert second.startswith("[##########] 3/3  $0.5000  0 failed") and len(second) >= len(first)
