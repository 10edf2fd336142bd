"""Online judge runs against the fake OpenAI-compatible server (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from tests.support.judge_data import add_comparisons, expected_preference
from tiebreak.core.judge import (
    CancelToken,
    ConfigError,
    JudgeError,
    JudgeOptions,
    RetryPolicy,
    load_config,
    run_judge,
)
from tiebreak.core.judge import sql as judge_sql
from tiebreak.core.judge.runner import run_judge_async

FAST = RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.01)


def options(fake, name="tiebreak-ranking", **kw):
    """JudgeOptions for the fake server."""
    return JudgeOptions(config=load_config(name), base_url=fake.base_url, **kw)


def live(store):
    return store.annotations_frame(sources=["judge"])


@pytest.mark.parametrize("answer", ["tool", "text"])
def test_unswap_matches_rule_in_both_orders(store, fake_openai, answer):
    ids = add_comparisons(store, 12)
    config = replace(load_config("tiebreak-ranking"), answer=answer)
    opts = JudgeOptions(config=config, base_url=fake_openai.base_url, seeds=(0, 1, 2, 3))
    summary, _ = run_judge(store, opts, api_key="k", policy=FAST)
    df = live(store)
    assert summary.judged == len(df) == 48
    assert set(df["swapped"]) == {0, 1}  # the coin shows both orders
    for row in df.itertuples():
        assert row.preference == expected_preference(store, row.comparison_id)
    raw = store.conn.execute("SELECT preference, raw_preference, swapped FROM annotations").fetchall()
    assert all(p == (3 - r if s else r) for p, r, s in raw)
    assert {r for _, r, _ in raw} == {1.0, 2.0}  # the judge saw the longer output on both sides
    assert set(df["comparison_id"]) == set(ids)
    if answer == "tool":
        assert df["rationale"].str.contains("longer").all()
    assert (df["price_per_example"] > 0).all() and (df["time_per_example"] > 0).all()
    assert df["annotator"].unique().tolist() == ["tiebreak-ranking"]


def test_weighted_fractional_preference_and_both_orders(store, fake_openai):
    add_comparisons(store, 6)
    summary, _ = run_judge(store, options(fake_openai, "tiebreak-weighted", both_orders=True),
                           api_key="k", policy=FAST)  # fmt: skip
    df = live(store)
    assert len(df) == 6 and fake_openai.chat_requests == 12
    for row in df.itertuples():
        # fake puts 0.8 on the longer one's label and 0.2 on the other
        winner = expected_preference(store, row.comparison_id)
        assert row.preference == pytest.approx(1.8 if winner == 2 else 1.2)
    assert summary.position_consistency() == 1.0
    assert df["annotator"].unique().tolist() == ["tiebreak-weighted+both"]


def test_second_run_makes_zero_requests_and_force_asks_again(store, fake_openai):
    add_comparisons(store, 5)
    run_judge(store, options(fake_openai, seeds=(0, 1)), api_key="k", policy=FAST)
    assert fake_openai.chat_requests == 10
    summary, _ = run_judge(store, options(fake_openai, seeds=(0, 1)), api_key="k", policy=FAST)
    assert fake_openai.chat_requests == 10 and summary.already == 10 and summary.planned == 0
    # verdicts retracted elsewhere: the cache answers, still without a call
    for annotation_id in live(store)["annotation_id"]:
        with store.transaction() as tx:
            tx.retract_annotation(int(annotation_id))
    summary, _ = run_judge(store, options(fake_openai, seeds=(0, 1)), api_key="k", policy=FAST)
    assert fake_openai.chat_requests == 10 and summary.cached == 10 and len(live(store)) == 10
    summary, _ = run_judge(store, options(fake_openai, seeds=(0, 1), force=True), api_key="k", policy=FAST)
    assert fake_openai.chat_requests == 20 and summary.judged == 10
    assert len(live(store)) == 10  # forced verdicts replace (retract) the old ones


def test_identical_outputs_are_ties_without_a_call(store, fake_openai):
    with store.transaction() as tx:
        iid = tx.instruction_id("Say hi.")
        cid = tx.comparison_id(iid, tx.output_id(iid, "ref", "hi"), tx.output_id(iid, "m", "hi"))
    summary, _ = run_judge(store, options(fake_openai), api_key="k", policy=FAST)
    assert fake_openai.chat_requests == 0 and summary.ties == 1
    assert live(store).set_index("comparison_id").loc[cid, "preference"] == 1.5


def test_429_honours_retry_after_and_500_is_retried(store, fake_openai):
    add_comparisons(store, 1)
    fake_openai.inject("429", retry_after=1)
    fake_openai.inject("500", times=2)
    waits: list[float] = []

    async def record_wait(seconds: float) -> None:  # the injected clock: nothing really waits
        waits.append(seconds)

    policy = replace(FAST, base_delay=0.25, max_delay=30.0, sleep=record_wait, jitter=lambda: 0.0)
    summary, _ = run_judge(store, options(fake_openai), api_key="k", policy=policy)
    # Retry-After: 1 s wins over the backoff; then 0.25 * 2**attempt halved by the (zero) jitter
    assert waits == [1.0, 0.25, 0.5]
    assert summary.retries == 3 and summary.requests == 4 and summary.judged == 1
    assert len(live(store)) == 1


def test_backoff_doubles_within_its_jitter_band_and_is_capped():
    """RetryPolicy.delay with the jitter injected: [backoff / 2, backoff], backoff = base 2^attempt."""
    error = RuntimeError("no response, so no Retry-After")
    low = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=lambda: 0.0)
    high = replace(low, jitter=lambda: 1.0)
    assert [low.delay(a, error) for a in range(5)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert [high.delay(a, error) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_timeouts_are_retried(store, fake_openai):
    add_comparisons(store, 2)
    fake_openai.inject("slow", seconds=2.0)
    config = replace(load_config("tiebreak-ranking"), timeout=0.4)
    opts = JudgeOptions(config=config, base_url=fake_openai.base_url, concurrency=1)
    summary, _ = run_judge(store, opts, api_key="k", policy=FAST)
    assert summary.retries == 1 and summary.judged == 2 and summary.failed == 0


def test_exhausted_retries_and_nonsense_are_failures_not_verdicts(store, fake_openai):
    add_comparisons(store, 3)
    add_comparisons(store, 2, prefix="NONSENSE")
    fake_openai.inject("500", times=FAST.max_retries + 1)
    summary, run_id = run_judge(store, options(fake_openai, concurrency=1), api_key="k", policy=FAST)
    assert summary.failed == 3 and summary.judged == 2
    assert summary.failures == {"HTTP 500": 1, "unparsed": 2}
    assert judge_sql.failure_reasons(store, run_id) == summary.failures
    df = live(store)
    assert len(df) == 2 and df["preference"].notna().all()
    assert not df["instruction"].str.contains("NONSENSE").any()


def test_weighted_without_logprobs_is_a_clear_error(store, fake_openai):
    add_comparisons(store, 3)
    fake_openai.logprobs = False
    with pytest.raises(JudgeError, match="logprobs"):
        run_judge(store, options(fake_openai, "tiebreak-weighted"), api_key="k", policy=FAST)
    assert len(live(store)) == 0


def test_endpoint_without_tool_calls_is_a_clear_error_and_text_mode_works(store, fake_openai):
    add_comparisons(store, 3)
    fake_openai.tools = False
    with pytest.raises(JudgeError, match='answer = "text"'):
        run_judge(store, options(fake_openai, concurrency=1), api_key="k", policy=FAST)
    text_mode = replace(load_config("tiebreak-ranking"), name="ranking-text", answer="text")
    summary, _ = run_judge(store, JudgeOptions(config=text_mode, base_url=fake_openai.base_url),
                           api_key="k", policy=FAST)  # fmt: skip
    assert summary.judged == 3


def test_unreachable_endpoint_is_a_clear_error(store):
    import socket

    add_comparisons(store, 3)
    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    opts = JudgeOptions(config=load_config("tiebreak-ranking"), base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(JudgeError, match="cannot reach the endpoint"):
        run_judge(store, opts, api_key="k", policy=FAST)


def test_bad_key_stops_the_run(store, fake_openai):
    add_comparisons(store, 4)
    fake_openai.inject("401", times=4)
    with pytest.raises(JudgeError, match="HTTP 401"):
        run_judge(store, options(fake_openai, concurrency=1), api_key="k", policy=FAST)
    assert fake_openai.chat_requests == 1


def test_cancel_then_resume_completes_without_duplicates(store, fake_openai):
    ids = add_comparisons(store, 12)
    fake_openai.delay = 0.05
    cancel = CancelToken()

    def progress(p):
        if p.finished >= 4:
            cancel.cancel()

    summary, run_id = asyncio.run(run_judge_async(store, options(fake_openai, concurrency=2),
                                                  api_key="k", progress=progress, cancel=cancel,
                                                  policy=FAST))  # fmt: skip
    assert summary.cancelled and 4 <= summary.judged < 12
    assert judge_sql.run_row(store, run_id)["status"] == "cancelled"
    first = summary.judged
    requests_before = fake_openai.chat_requests
    summary, _ = run_judge(store, options(fake_openai, concurrency=2), api_key="k", policy=FAST)
    assert summary.already == first and summary.judged == 12 - first
    assert fake_openai.chat_requests - requests_before == 12 - first
    df = live(store)
    assert sorted(df["comparison_id"]) == sorted(ids)  # exactly one verdict each


def test_edited_config_is_a_new_version_with_its_own_verdicts(store, fake_openai):
    add_comparisons(store, 1)
    run_judge(store, options(fake_openai), api_key="k", policy=FAST)
    edited = replace(load_config("tiebreak-ranking"), temperature=0.7)
    summary, _ = run_judge(store, JudgeOptions(config=edited, base_url=fake_openai.base_url), api_key="k")
    assert summary.judged == 1 and summary.already == 0  # the edit does not reuse v1's verdicts
    rows = store.conn.execute("SELECT name, config, config_hash FROM annotators WHERE kind = 'judge' "
                              "ORDER BY id").fetchall()  # fmt: skip
    assert [r[0] for r in rows] == ["tiebreak-ranking", "tiebreak-ranking.v2"]
    v1, v2 = (json.loads(r[1]) for r in rows)
    assert (v1["version"], v2["version"], v2["version_of"]) == (1, 2, "tiebreak-ranking")
    assert (v1["temperature"], v2["temperature"]) == (0.0, 0.7) and rows[0][2] != rows[1][2]
    again, _ = run_judge(store, options(fake_openai), api_key="k", policy=FAST)  # the original again
    assert again.already == 1 and again.judged == 0


def test_name_clash_with_an_imported_or_human_annotator_is_refused(store, fake_openai):
    add_comparisons(store, 1)
    with store.transaction() as tx:
        tx.annotator_id("tiebreak-ranking", "judge")  # e.g. imported AlpacaEval annotations
    with pytest.raises(ConfigError, match="another name"):
        run_judge(store, options(fake_openai), api_key="k", policy=FAST)
    with store.transaction() as tx:
        tx.annotator_id("tiebreak-weighted", "human")
    with pytest.raises(ConfigError, match="human"):
        run_judge(store, options(fake_openai, "tiebreak-weighted"), api_key="k", policy=FAST)


def test_model_override_is_its_own_annotator(store, fake_openai):
    add_comparisons(store, 2)
    run_judge(store, options(fake_openai, model="other-model"), api_key="k", policy=FAST)
    df = live(store)
    assert df["annotator"].unique().tolist() == ["tiebreak-ranking@other-model"]
    assert df["annotator_kind"].unique().tolist() == ["judge"]
