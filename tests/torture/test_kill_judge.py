"""kill -9 during judge runs (online and batch): no run stuck at 'running', no duplicate verdict, no second batch, paid answers not asked again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.judge_data import add_comparisons
from tiebreak.core.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _judge(db: Path, base_url: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
    return subprocess.Popen(
        [sys.executable, "-m", "tiebreak", "judge", "--db", str(db), "--config", "tiebreak-ranking",
         "--base-url", base_url, "--concurrency", "4", *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(cond, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def _rows(db: Path, sql: str) -> list[tuple]:
    s = Store(db)
    try:
        return s.conn.execute(sql).fetchall()
    finally:
        s.close()


@pytest.mark.slow
def test_kill_during_an_online_run(tmp_path, fake_openai):
    db = tmp_path / "j.sqlite"
    s = Store(db, create=True)
    add_comparisons(s, 40)
    s.close()
    fake_openai.delay = 0.05
    proc = _judge(db, fake_openai.base_url)
    _wait_for(lambda: fake_openai.chat_requests >= 12)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    asked_before = fake_openai.chat_requests
    cached = _rows(db, "SELECT count(*) FROM judge_cache")[0][0]
    assert _rows(db, "SELECT status FROM judge_runs") == [("running",)]  # what a kill leaves
    fake_openai.delay = 0.0
    done = _judge(db, fake_openai.base_url)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert [r[0] for r in _rows(db, "SELECT status FROM judge_runs ORDER BY id")] == ["interrupted", "done"]
    assert fake_openai.chat_requests - asked_before == 40 - cached  # nothing paid is asked again
    live = _rows(db, "SELECT comparison_id, count(*) FROM annotations WHERE source = 'judge'"
                     " AND retracted_at IS NULL GROUP BY comparison_id")  # fmt: skip
    assert len(live) == 40 and all(n == 1 for _, n in live)  # one verdict each, no duplicates
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.slow
def test_kill_between_batch_create_and_saving_its_id(tmp_path, fake_openai):
    db = tmp_path / "b.sqlite"
    s = Store(db, create=True)
    add_comparisons(s, 8)
    s.close()
    fake_openai.batch_polls = 10_000  # the batch stays in progress while we kill
    fake_openai.delay_batch_create = 2.0  # the process dies while the create is in flight
    proc = _judge(db, fake_openai.base_url, "--batch", "--poll-seconds", "0.05")
    _wait_for(lambda: fake_openai.batches)  # the provider has created it ...
    proc.send_signal(signal.SIGKILL)  # ... and the client never learns its id
    proc.wait()
    assert _rows(db, "SELECT status, batch_id FROM judge_runs") == [("submitting", None)]
    fake_openai.batch_polls = 0
    fake_openai.delay_batch_create = 0.0
    again = _judge(db, fake_openai.base_url, "--batch", "--poll-seconds", "0.05")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert fake_openai.counts["POST /v1/batches"] == 1 and len(fake_openai.batches) == 1  # never twice
    (status, batch_id), = _rows(db, "SELECT status, batch_id FROM judge_runs")
    assert status == "done" and batch_id in fake_openai.batches
    assert _rows(db, "SELECT count(*) FROM annotations WHERE source = 'judge'") == [(8,)]
