"""Run estimate, connection test, Limit semantics and fast failure on a refused endpoint."""

from __future__ import annotations

import math
import socket
from dataclasses import replace

import pytest

from tests.support.judge_data import add_comparisons
from tiebreak.core.judge import JudgeError, JudgeOptions, RetryPolicy, load_config, run_judge
from tiebreak.core.judge.estimate import CHARS_PER_TOKEN, check_connection, estimate_run
from tiebreak.core.judge.prompts import render_messages
from tiebreak.core.judge.sql import candidates


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_estimate_counts_and_prices(store):
    add_comparisons(store, 5)
    config = replace(load_config("tiebreak-ranking"), price_per_input_token=1e-6,
                     price_per_output_token=2e-6, both_orders=True, seeds=(0, 1))
    est = estimate_run(store, JudgeOptions(config=config))
    assert (est.comparisons, est.tasks, est.requests, est.already) == (5, 10, 20, 0)
    chars = sum(len(m["content"]) for c in candidates(store)
                for m in render_messages(config, c.instruction, c.output_1, c.output_2))
    assert est.input_tokens == math.ceil(chars * 2 * 2 / CHARS_PER_TOKEN)
    assert est.output_tokens == 20 * config.max_tokens
    assert est.dollars == pytest.approx(est.input_tokens * 1e-6 + est.output_tokens * 2e-6)
    half = estimate_run(store, JudgeOptions(config=config), batch=True)
    assert half.dollars == pytest.approx(est.dollars * config.batch_price_factor)
    assert estimate_run(store, JudgeOptions(config=config, limit=2)).comparisons == 2


def test_limit_counts_comparisons_still_to_judge(store, fake_openai):
    add_comparisons(store, 6)
    opts = JudgeOptions(config=load_config("tiebreak-ranking"), base_url=fake_openai.base_url, limit=2)
    first, _ = run_judge(store, opts, api_key="k")
    second, _ = run_judge(store, opts, api_key="k")
    assert first.judged == 2 and second.judged == 2  # before: the same two, nothing new
    judged = store.annotations_frame(sources=["judge"])["comparison_id"]
    assert judged.nunique() == 4
    assert estimate_run(store, opts).already == 4


def test_refused_endpoint_fails_without_backoff(store):
    add_comparisons(store, 3)
    slept = []

    async def sleep(seconds):
        slept.append(seconds)

    url = f"http://127.0.0.1:{closed_port()}/v1"
    opts = JudgeOptions(config=load_config("tiebreak-ranking"), base_url=url)
    with pytest.raises(JudgeError, match="cannot reach the endpoint"):
        run_judge(store, opts, api_key="k", policy=RetryPolicy(sleep=sleep))
    assert slept == []  # no retry waits before giving up


def test_check_connection(fake_openai):
    config = load_config("tiebreak-weighted")
    assert "Connected" in check_connection(fake_openai.base_url, "k", config)
    assert fake_openai.chat_requests == 1
    with pytest.raises(JudgeError, match="connection error"):
        check_connection(f"http://127.0.0.1:{closed_port()}/v1", "k", config)
    fake_openai.inject("401")
    with pytest.raises(JudgeError, match="HTTP 401") as err:
        check_connection(fake_openai.base_url, "sk-secret-key-123456", config)
    assert "sk-secret-key-123456" not in str(err.value)
