"""The judge never loses paid work silently: worker errors fail the run, dead runs are found, batches are not sent twice."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.judge_data import add_comparisons
from tiebreak.core.judge import JudgeError, JudgeOptions, RetryPolicy, load_config, run_judge
from tiebreak.core.judge import sql as judge_sql
from tiebreak.core.judge.batch import run_batch
from tiebreak.core.store import Store

FAST = RetryPolicy(max_retries=1, base_delay=0.001, max_delay=0.01)


def opts(fake, name="tiebreak-ranking", **kw):
    return JudgeOptions(config=load_config(name), base_url=fake.base_url, **kw)


def _cached(path) -> int:
    s = Store(path)
    try:
        return int(s.conn.execute("SELECT count(*) FROM judge_cache").fetchone()[0])
    finally:
        s.close()


def test_disk_full_mid_run_fails_loudly_and_keeps_paid_answers(tmp_path, fake_openai):
    """With the disk full the run used to exit 'done, 0 failed' with most verdicts lost."""
    path = tmp_path / "full.sqlite"
    store = Store(path, create=True)
    add_comparisons(store, 60)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLITE_FULL after a few writes
    with pytest.raises(JudgeError, match="the run stopped: .*full"):
        run_judge(store, opts(fake_openai), api_key="k", policy=FAST)
    store.close()
    asked = fake_openai.chat_requests
    kept = _cached(path)
    assert 0 < kept < 60 and asked >= kept
    # a rerun on a roomy disk asks only for what is not in the cache, and finishes
    fresh = Store(path)
    summary, run_id = run_judge(fresh, opts(fake_openai), api_key="k", policy=FAST)
    assert fake_openai.chat_requests - asked == 60 - kept
    assert judge_sql.run_row(fresh, run_id)["status"] == "done"
    assert len(fresh.annotations_frame(sources=["judge"])) == 60
    fresh.close()


def test_a_failed_run_is_marked_failed(store, fake_openai):
    add_comparisons(store, 5)
    with store.transaction() as tx:  # any write of a verdict breaks: a bug-like failure in a worker
        tx.execute("CREATE TRIGGER no_verdicts BEFORE INSERT ON annotations BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(JudgeError, match="boom"):
        run_judge(store, opts(fake_openai), api_key="k", policy=FAST)
    (status,) = store.conn.execute("SELECT status FROM judge_runs").fetchone()
    assert status == "failed"
    assert store.conn.execute("SELECT count(*) FROM judge_cache").fetchone()[0] >= 1  # paid work kept


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_runs_of_dead_processes_are_marked_interrupted(store, fake_openai):
    add_comparisons(store, 2)
    run_judge(store, opts(fake_openai), api_key="k", policy=FAST)
    with store.transaction() as tx:  # a run whose process died: left 'running' by a kill -9
        tx.execute("UPDATE judge_runs SET status = 'running', options = json_set(options, '$.owner.pid', ?)",
                   (_dead_pid(),))  # fmt: skip
    add_comparisons(store, 1, prefix="More")
    run_judge(store, opts(fake_openai), api_key="k", policy=FAST)
    statuses = [r[0] for r in store.conn.execute("SELECT status FROM judge_runs ORDER BY id")]
    assert statuses == ["interrupted", "done"]


def test_live_runs_of_this_process_are_not_reaped(store):
    add_comparisons(store, 1)
    with store.transaction() as tx:
        judge_sql.create_run(tx, annotator_id=tx.annotator_id("j", "judge"), config_name="c",
                             config_hash="h", model="m", base_url=None, mode="online", options={})  # fmt: skip
        assert judge_sql.reap_dead_runs(tx) == []


def test_a_lost_batch_create_answer_is_recovered_not_resent(store, fake_openai):
    """The provider created the batch but its answer was lost: look it up, never submit twice."""
    add_comparisons(store, 4)
    fake_openai.lose_batch_answers = 1
    summary, run_id = run_batch(store, opts(fake_openai), api_key="k", poll_interval=0.01, policy=FAST)
    assert fake_openai.counts["POST /v1/batches"] == 1 and len(fake_openai.batches) == 1
    assert summary.judged == 4 and judge_sql.run_row(store, run_id)["status"] == "done"


def test_a_run_that_died_while_submitting_finds_its_batch(store, fake_openai):
    """Killed between batches.create and saving its id: the next run adopts that batch."""
    import openai

    from tiebreak.core.judge.batch import batch_lines
    from tiebreak.core.judge.job import JudgeJob

    add_comparisons(store, 3)
    job = JudgeJob(store, opts(fake_openai), mode="batch")
    with store.transaction() as tx:
        judge_sql.set_run_status(tx, job.run_id, "submitting")
    lines, _ = batch_lines(job, job.plan())
    client = openai.OpenAI(base_url=fake_openai.base_url, api_key="k")  # what the dead process sent
    up = client.files.create(file=("x.jsonl", ("\n".join(lines) + "\n").encode(), "application/jsonl"),
                             purpose="batch")  # fmt: skip
    client.batches.create(input_file_id=up.id, endpoint="/v1/chat/completions", completion_window="24h",
                          metadata={"tiebreak_intent": job.batch_intent})  # fmt: skip
    client.close()
    summary, run_id = run_batch(store, opts(fake_openai), api_key="k", poll_interval=0.01, policy=FAST)
    assert run_id == job.run_id and fake_openai.counts["POST /v1/batches"] == 1  # not re-sent
    assert judge_sql.run_row(store, run_id)["batch_id"] in fake_openai.batches
    assert summary.judged == 3 and len(store.annotations_frame(sources=["judge"])) == 3
