"""Parsers of the two built-in judges, the order coin and prompt rendering."""

from __future__ import annotations

import json
import math

import pytest

from tiebreak.core.judge.config import load_config
from tiebreak.core.judge.parsers import (
    LogprobsUnsupported,
    ParseError,
    parse_ranking,
    parse_weighted,
)
from tiebreak.core.judge.prompts import render_messages, request_body, shown_swapped


def chat(content=None, tool_args=None, top=None):
    message = {"role": "assistant", "content": content}
    if tool_args is not None:
        message["tool_calls"] = [{"id": "c", "type": "function",
                                  "function": {"name": "submit_verdict", "arguments": tool_args}}]  # fmt: skip
    choice = {"message": message}
    if top is not None:
        choice["logprobs"] = {"content": [{"token": "x", "logprob": 0.0,
                                           "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top]}]}  # fmt: skip
    return {"choices": [choice]}


@pytest.mark.parametrize(("completion", "expected", "rationale"), [
    (chat(tool_args='{"better": 2, "explanation": " More precise. "}'), 2.0, "More precise."),
    (chat(tool_args='{"better": "1"}'), 1.0, None),
    (chat(content='Sure: {"better": 1, "explanation": "shorter and right"}'), 1.0, "shorter and right"),
    (chat(content="2"), 2.0, None),
    (chat(content="Output 1."), 1.0, None),
])  # fmt: skip
def test_ranking_accepts_tool_json_and_plain(completion, expected, rationale):
    parsed = parse_ranking(completion)
    assert parsed.raw_preference == expected and parsed.rationale == rationale


@pytest.mark.parametrize("completion", [
    chat(content="Both are fine, honestly."), chat(content=""), chat(content="1 or 2"),
    chat(tool_args='{"better": 3}'), chat(tool_args="not json"), chat(tool_args='{"explanation": "x"}'),
    chat(tool_args='{"better": true}'), {"choices": []},
])  # fmt: skip
def test_ranking_nonsense_is_a_parse_error(completion):
    with pytest.raises(ParseError):
        parse_ranking(completion)


def test_weighted_formula_over_top_logprobs():
    lp_m, lp_big = math.log(0.6), math.log(0.3)
    parsed = parse_weighted(chat(content="m", top=[("m", lp_m), ("M", lp_big), ("The", -5)]))
    p_first = 0.6 / 0.9
    assert parsed.raw_preference == pytest.approx(2 - p_first, abs=1e-12)
    assert json.loads(parsed.raw_completion)["top_logprobs"][0] == ["m", lp_m]


def test_weighted_missing_label_counts_zero_and_whitespace_variants_add_up():
    assert parse_weighted(chat(top=[("M", -0.2), ("I", -1)])).raw_preference == 2.0
    assert parse_weighted(chat(top=[("m", -0.1), ("x", -1)])).raw_preference == 1.0
    both = parse_weighted(chat(top=[("m", math.log(0.25)), (" m", math.log(0.25)), ("M", math.log(0.5))]))
    assert both.raw_preference == pytest.approx(1.5)


def test_weighted_neither_label_and_no_logprobs():
    with pytest.raises(ParseError, match="neither"):
        parse_weighted(chat(top=[("The", -0.1), ("I", -2)]))
    with pytest.raises(LogprobsUnsupported, match="logprobs"):
        parse_weighted(chat(content="m"))


def test_coin_is_seeded_deterministic_and_balanced():
    flips = [shown_swapped(f"q{i}", "a", "b", seed) for i in range(400) for seed in range(2)]
    assert flips == [shown_swapped(f"q{i}", "a", "b", seed) for i in range(400) for seed in range(2)]
    assert 0.4 < sum(flips) / len(flips) < 0.6
    assert flips[0::2] != flips[1::2]  # the seed changes the order


def test_render_replaces_only_placeholders_once():
    config = load_config("tiebreak-ranking")
    messages = render_messages(config, "Q {first_output}", "A {second_output}", "B {x}")
    user = messages[-1]["content"]
    assert "Q {first_output}" in user and "A {second_output}" in user and "B {x}" in user
    assert user.index("A {second_output}") < user.index("B {x}")
    assert messages[0]["role"] == "system"


def test_request_bodies():
    weighted = request_body(load_config("tiebreak-weighted"), "q", "a", "b")
    assert weighted["max_tokens"] == 1 and weighted["logprobs"] is True and weighted["top_logprobs"] == 5
    ranking = request_body(load_config("tiebreak-ranking"), "q", "a", "b")
    assert ranking["tools"][0]["function"]["name"] == "submit_verdict"
    assert ranking["tool_choice"]["function"]["name"] == "submit_verdict"
