"""AlpacaEval configurations read as they are, and AlpacaEval's parsers (checked against its own)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tiebreak.core.judge import ConfigError, load_config
from tiebreak.core.judge.alpaca_config import (
    alpaca_dir,
    installed_alpaca_names,
    prompt_to_chatml,
    render_prompt,
)
from tiebreak.core.judge.alpaca_parsers import parse_alpaca
from tiebreak.core.judge.prompts import request_body

completion_parsers = pytest.importorskip("alpaca_eval.completion_parsers")
alpaca_utils = pytest.importorskip("alpaca_eval.utils")


def test_installed_names_and_paths_load_the_same_configuration():
    assert {"weighted_alpaca_eval_gpt4_turbo", "alpaca_eval_gpt4_turbo_fn", "alpaca_eval_gpt4"} <= set(
        installed_alpaca_names())
    by_name = load_config("weighted_alpaca_eval_gpt4_turbo")
    folder = alpaca_dir() / "evaluators_configs" / "weighted_alpaca_eval_gpt4_turbo"
    by_path, by_folder = load_config(str(folder / "configs.yaml")), load_config(str(folder))
    assert by_name.config_hash() == by_path.config_hash() == by_folder.config_hash()
    assert by_name.name == "weighted_alpaca_eval_gpt4_turbo" and by_name.model == "gpt-4-1106-preview"
    assert by_name.alpaca.template_path.startswith(str(alpaca_dir()))  # read in place, not copied
    body = request_body(by_name, "Do X", "first {output_2}", "second")
    assert body["messages"][0]["role"] == "system" and body["messages"][1]["role"] == "user"
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["top_logprobs"]) == (1, 1, 1.0, 5)
    # AlpacaEval replaces each placeholder's first occurrence in turn: a placeholder inside an
    # earlier text is the one replaced, and the template's own stays (reproduced, quirk included)
    assert '"""first second"""' in body["messages"][1]["content"]
    assert '"""{output_2}"""' in body["messages"][1]["content"]


def test_prompt_rendering_is_alpaca_evals(tmp_path):
    import pandas as pd

    template = (alpaca_dir() / "evaluators_configs" / "alpaca_eval_gpt4_turbo_fn" / "alpaca_eval_fn.txt").read_text()
    values = {"instruction": "Write {output_1} twice", "output_1": "a {instruction} b", "output_2": "<|im_end|> c"}
    theirs, _ = alpaca_utils.make_prompts(pd.DataFrame([values]), template)
    assert render_prompt(template, values) == theirs[0]
    assert prompt_to_chatml(theirs[0].strip()) == alpaca_utils.prompt_to_chatml(theirs[0].strip())


LOGPROBS = [
    [("m", -0.2), ("M", -1.8)],
    [("M", -0.1), (" M", -0.5), ("m", -3.0)],  # " M" is not "M"
    [(" m", -0.1), ("M", -2.0)],                # only M counts: P(m) = 0 -> 2
    [("I", -0.1), (" M", -0.2)],                # none of them -> unparsable
]  # fmt: skip


@pytest.mark.parametrize("top", LOGPROBS)
@pytest.mark.parametrize("binarize", [False, True])
def test_logprob_parser_matches_alpaca_eval(top, binarize):
    completion = {"logprobs": {"content": [{"token": top[0][0], "logprob": top[0][1],
                                            "top_logprobs": [{"token": t, "logprob": lp} for t, lp in top]}]}}  # fmt: skip
    kwargs = {"numerator_token": "m", "denominator_tokens": ["m", "M"], "is_binarize": binarize}
    ours = parse_alpaca("logprob_parser", kwargs, completion)
    theirs = completion_parsers.logprob_parser(completion, **kwargs)[0]
    assert (math.isnan(ours) and math.isnan(theirs)) or ours == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize(("parser", "kwargs", "completion"), [
    ("ranking_parser", {}, "[{'model': 'model_1', 'rank': 2}, {'model': 'model_2', 'rank': 1}]"),
    ("ranking_parser", {}, "[{'model': 'model_1', 'rank': 3}, {'model': 'model_2', 'rank': 1}]"),
    ("ranking_parser", {}, "I refuse"),
    ("pipeline_meta_parser", {"parsers_to_kwargs": {"json_parser": {"annotation_key": "ordered_models"},
                                                    "ranking_parser": {"model_1_name": "m"}}},
     '{"ordered_models": [{"model": "M", "rank": 1}, {"model": "m", "rank": 2}]}'),
    ("pipeline_meta_parser", {"parsers_to_kwargs": {"json_parser": {"annotation_key": "ordered_models"},
                                                    "ranking_parser": {"model_1_name": "m"}}}, "not json"),
    ("regex_parser", {"outputs_to_match": {1: r"(?:^|\n) ?Output \(a\)", 2: r"(?:^|\n) ?Output \(b\)"}},
     "Output (b)"),
    ("regex_parser", {"outputs_to_match": {1: "a", 2: "b"}}, "neither"),
])  # fmt: skip
def test_text_parsers_match_alpaca_eval(parser, kwargs, completion):
    ours = parse_alpaca(parser, kwargs, completion)
    try:
        out = getattr(completion_parsers, parser)(completion, **kwargs)
        theirs = float(out[0]) if len(out) == 1 and out[0] is not None else math.nan
    except Exception:  # noqa: BLE001 - AlpacaEval's annotator records a raising parser as NaN
        theirs = math.nan
    if not math.isnan(theirs) and not 1 <= theirs <= 2:
        theirs = math.nan
    assert (math.isnan(ours) and math.isnan(theirs)) or ours == theirs


def _yaml(tmp_path: Path, text: str) -> str:
    folder = tmp_path / "mine"
    folder.mkdir(exist_ok=True)
    (folder / "configs.yaml").write_text(text)
    return str(folder / "configs.yaml")


@pytest.mark.parametrize(("body", "message"), [
    ("x:\n  prompt_template: missing.txt\n  completions_kwargs: {model_name: gpt-4}\n",
     "x: field prompt_template: file 'missing.txt' not found"),
    ("x:\n  prompt_template: TEMPLATE\n  fn_completions: anthropic_completions\n  completions_kwargs: {model_name: c}\n",
     "x: field fn_completions: only openai_completions"),
    ("x:\n  prompt_template: TEMPLATE\n  batch_size: 5\n  completions_kwargs: {model_name: gpt-4}\n",
     "x: field batch_size: only 1 is supported, got 5"),
    ("x:\n  prompt_template: TEMPLATE\n  completions_kwargs: {model_name: gpt-4, tokens_to_avoid: [a]}\n",
     "x: field completions_kwargs.tokens_to_avoid: not supported"),
    ("x:\n  prompt_template: TEMPLATE\n  completions_kwargs: {model_name: text-davinci-003}\n",
     "legacy completions endpoint"),
    ("x:\n  prompt_template: TEMPLATE\n  fn_completion_parser: my_parser\n  completions_kwargs: {model_name: gpt-4}\n",
     "x: field fn_completion_parser: 'my_parser' is not one of"),
    ("x: [1, 2\n", "not valid YAML"),
    ("a: {}\nb: {}\n", "2 evaluators in one file"),
])  # fmt: skip
def test_bad_configurations_name_file_and_field(tmp_path, body, message):
    template = alpaca_dir() / "evaluators_configs" / "alpaca_eval_gpt4" / "alpaca_eval.txt"
    path = _yaml(tmp_path, body.replace("TEMPLATE", str(template)))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value) and path in str(info.value)


def test_unknown_name_lists_both_kinds():
    with pytest.raises(ConfigError) as info:
        load_config("no_such_judge")
    text = str(info.value)
    assert "tiebreak-ranking" in text and "weighted_alpaca_eval_gpt4_turbo" in text


def test_batch_api_run_gives_the_online_verdicts(fake_openai):
    from tests.support.judge_data import add_comparisons
    from tiebreak.core.judge import JudgeOptions, run_judge
    from tiebreak.core.judge.batch import run_batch
    from tiebreak.core.store import Store

    config = load_config("alpaca_eval_gpt4_turbo_fn")
    frames = []
    for mode in ("online", "batch"):
        store = Store(memory=True)
        add_comparisons(store, 6)
        options = JudgeOptions(config=config, base_url=fake_openai.base_url, seeds=(0, 1))
        if mode == "online":
            summary, _ = run_judge(store, options, api_key="k")
        else:
            summary, _ = run_batch(store, options, api_key="k", poll_interval=0.01)
        assert summary.judged == 12 and summary.failed == 0
        frames.append(store.annotations_frame(sources=["judge"]).sort_values(["comparison_id", "seed"]))
        store.close()
    online, batch = frames
    assert list(online["preference"]) == list(batch["preference"])
    assert list(online["raw_completion"]) == list(batch["raw_completion"])
    assert set(online["annotator"]) == {"alpaca_eval_gpt4_turbo_fn"}


def test_unparsable_answer_is_a_null_verdict_not_asked_again(fake_openai):
    from tests.support.judge_data import add_comparisons
    from tiebreak.core.judge import JudgeOptions, run_judge
    from tiebreak.core.store import Store

    store = Store(memory=True)
    add_comparisons(store, 2)
    add_comparisons(store, 1, prefix="NONSENSE")  # the fake answers without any m/M logprob
    options = JudgeOptions(config=load_config("weighted_alpaca_eval_gpt4_turbo"), base_url=fake_openai.base_url)
    summary, _ = run_judge(store, options, api_key="k")
    assert (summary.judged, summary.unparsed, summary.failed) == (2, 1, 0) and summary.dollars > 0
    frame = store.annotations_frame(sources=["judge"])
    bad = frame[frame["instruction"].str.startswith("NONSENSE")].iloc[0]
    import pandas as pd

    assert all(pd.isna(bad[c]) for c in ("preference", "raw_completion", "price_per_example", "time_per_example"))
    again, _ = run_judge(store, options, api_key="k")
    assert again.already == 3 and fake_openai.chat_requests == 3  # AlpacaEval caches it (-1) too
    store.close()
