"""Batch API mode end to end against the fake server: JSONL, upload, create, poll, collect, resume."""

from __future__ import annotations

import asyncio

from tests.support.judge_data import add_comparisons, expected_preference
from tiebreak.core.judge import (
    CancelToken,
    JudgeOptions,
    Progress,
    RetryPolicy,
    load_config,
    run_judge,
)
from tiebreak.core.judge import sql as judge_sql
from tiebreak.core.judge.batch import BatchProgress, batch_progress, run_batch, run_batch_async

FAST = RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01)


def opts(fake, name="tiebreak-ranking", **kw):
    return JudgeOptions(config=load_config(name), base_url=fake.base_url, **kw)


def test_batch_flow_end_to_end(store, fake_openai):
    add_comparisons(store, 6)
    add_comparisons(store, 1, prefix="NONSENSE")
    summary, run_id = run_batch(store, opts(fake_openai, "tiebreak-weighted", seeds=(0, 1)),
                                api_key="k", poll_interval=0.01, policy=FAST)  # fmt: skip
    counts = fake_openai.counts
    assert counts["POST /v1/files"] == 1 and counts["POST /v1/batches"] == 1
    assert counts["GET /v1/batches/ID"] >= 2 and counts["GET /v1/files/ID/content"] == 1
    assert fake_openai.chat_requests == 0
    assert summary.judged == 12 and summary.failed == 2 and summary.failures == {"unparsed": 2}
    df = store.annotations_frame(sources=["judge"])
    assert len(df) == 12
    for row in df.itertuples():
        winner = expected_preference(store, row.comparison_id)
        assert abs(row.preference - (1.8 if winner == 2 else 1.2)) < 1e-12
    # batch price: half the online price of the same tokens
    config = load_config("tiebreak-weighted")
    raw = store.conn.execute("SELECT prompt_tokens, completion_tokens, price FROM judge_cache").fetchall()
    for p_tok, c_tok, price in raw:
        full = p_tok * config.price_per_input_token + c_tok * config.price_per_output_token
        assert abs(price - 0.5 * full) < 1e-15
    run = judge_sql.run_row(store, run_id)
    assert run["status"] == "done" and run["batch_id"].startswith("batch-")
    # everything answered is cached: an online rerun asks nothing but the two failures again
    summary, _ = run_judge(store, opts(fake_openai, "tiebreak-weighted", seeds=(0, 1)),
                           api_key="k", policy=FAST)  # fmt: skip
    assert summary.already == 12 and fake_openai.chat_requests == 2 and summary.failed == 2


def test_batch_resumes_from_its_batch_id(store, fake_openai):
    add_comparisons(store, 4)
    fake_openai.batch_polls = 10_000  # never finishes while we wait
    cancel = CancelToken()

    def progress(_):
        pass

    async def submit_then_cancel():
        task = asyncio.ensure_future(run_batch_async(store, opts(fake_openai), api_key="k",
                                                     cancel=cancel, poll_interval=0.01,
                                                     progress=progress, policy=FAST))  # fmt: skip
        while fake_openai.counts["GET /v1/batches/ID"] < 2:
            await asyncio.sleep(0.01)
        cancel.cancel()
        return await task

    summary, run_id = asyncio.run(submit_then_cancel())
    assert summary.cancelled and judge_sql.run_row(store, run_id)["status"] == "submitted"
    assert store.annotations_frame(sources=["judge"]).empty
    fake_openai.batch_polls = 0
    summary, resumed_id = run_batch(store, opts(fake_openai), api_key="k", poll_interval=0.01,
                                    policy=FAST)  # fmt: skip
    assert resumed_id == run_id and summary.judged == 4
    assert fake_openai.counts["POST /v1/batches"] == 1 and fake_openai.counts["POST /v1/files"] == 1
    assert judge_sql.run_row(store, run_id)["status"] == "done"
    assert len(store.annotations_frame(sources=["judge"])) == 4


def test_batch_with_nothing_to_do_submits_nothing(store, fake_openai):
    add_comparisons(store, 2)
    run_judge(store, opts(fake_openai), api_key="k", policy=FAST)
    summary, _ = run_batch(store, opts(fake_openai), api_key="k", poll_interval=0.01, policy=FAST)
    assert summary.already == 2 and fake_openai.counts["POST /v1/files"] == 0


def test_batch_reports_request_counts_while_polling(store, fake_openai):
    add_comparisons(store, 6)
    add_comparisons(store, 2, prefix="BATCHFAIL")  # the fake's batch fails these requests (HTTP 500)
    fake_openai.batch_polls = 5  # in_progress for four polls, a share more done at each
    reports = []
    summary, _ = run_batch(store, opts(fake_openai), api_key="k", poll_interval=0.01,
                           progress=reports.append, policy=FAST)  # fmt: skip
    polled = [p for p in reports if isinstance(p, BatchProgress)]
    assert len(polled) == fake_openai.counts["GET /v1/batches/ID"] == 5  # one report per poll
    assert {p.batch_id for p in polled} == set(fake_openai.batches) and all(p.total == 8 for p in polled)
    assert [p.status for p in polled] == ["in_progress"] * 4 + ["completed"]
    done = [p.requests_done for p in polled]
    assert done == sorted(done) and 0 < done[2] < 8  # progress seen before the end
    last = polled[-1]
    assert (last.requests_completed, last.requests_failed, last.requests_total) == (6, 2, 8)
    assert last.batch_text() == f"batch {last.batch_id} completed: 8/8 requests, 2 failed"
    assert not isinstance(reports[-1], BatchProgress) and reports[-1].finished == 8  # the final report
    assert summary.judged == 6 and summary.failed == 2 and summary.failures == {"HTTP 500": 2}


def test_batch_progress_reads_missing_counts_as_zero():
    class Batch:
        id, status, request_counts = "b-1", "validating", None

    p = batch_progress(Batch(), Progress(0, 4, 0.0, 0, 0))
    assert (p.requests_done, p.requests_total, p.total) == (0, 0, 4)
    assert p.batch_text() == "batch b-1 validating: 0/? requests, 0 failed"
