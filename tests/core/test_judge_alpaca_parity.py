"""Acceptance test of issue 10: AlpacaEval's own judges, run by alpaca_eval and by `tiebreak judge`.

Both run against the same loopback judge (tests/support/fake_openai.py, real HTTP) whose answers
have a position bias, on the same 40 real pairs (gpt4_1106_preview vs alpaca-7b); they must give
the same preference for every pair (1e-9), the same raw completions, the same requests, and the
same win rate. An exported annotations.json then serves alpaca_eval as its cache: no API call.
"""

from __future__ import annotations

import json
import math
import random

import pandas as pd
import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.judge_data import add_comparisons
from tiebreak.core.cli import main
from tiebreak.core.store import Store

alpaca_main = pytest.importorskip("alpaca_eval.main")

N_PAIRS = 40
NONSENSE_AT, IDENTICAL_AT = 7, 11  # one unparsable answer, one pair of identical outputs


def _pairs(alpaca_dir):
    results = alpaca_dir / "results"
    ref = json.loads((results / "gpt4_1106_preview" / "model_outputs.json").read_text())[:N_PAIRS]
    mod = json.loads((results / "alpaca-7b" / "model_outputs.json").read_text())[:N_PAIRS]
    assert [r["instruction"] for r in ref] == [m["instruction"] for m in mod]
    for rows in (ref, mod):
        rows[NONSENSE_AT] = {**rows[NONSENSE_AT], "instruction": rows[NONSENSE_AT]["instruction"] + " NONSENSE"}
    mod[IDENTICAL_AT] = {**mod[IDENTICAL_AT], "output": ref[IDENTICAL_AT]["output"]}
    return ref, mod


def _run_alpaca(ref, mod, config, seed, fake, tmp_path, cache):
    clients = tmp_path / "openai_clients.yaml"
    clients.write_text(f"default:\n  - api_key: dummy-key\n    base_url: {fake.base_url}\n")
    leaderboard, annotations = alpaca_main.evaluate(
        model_outputs=mod, reference_outputs=ref, annotators_config=config, output_path=None,
        precomputed_leaderboard=None, is_return_instead_of_print=True, fn_metric="get_winrate",
        sort_by="win_rate", caching_path=str(cache), seed=seed,
        annotation_kwargs={"client_config_path": str(clients)},
    )  # fmt: skip
    return leaderboard.iloc[0], annotations


def seeded_db(path):
    """A database that already holds one unrelated comparison (so no command treats it as new)."""
    store = Store(path, create=True)
    add_comparisons(store, 1, reference="other-ref", generator="other-model", prefix="Unrelated")
    store.close()
    return path


def _run_tiebreak(ref, mod, config, seed, fake, tmp_path):
    db = seeded_db(tmp_path / "tiebreak.sqlite")
    files = []
    for name, rows in (("ref", ref), ("mod", mod)):
        path = tmp_path / f"{name}_outputs.json"
        path.write_text(json.dumps(rows))
        files.append(str(path))
    assert main(["import", "--db", str(db), "--format", "model-outputs", *files]) == 0
    code = main(["judge", "--db", str(db), "--config", config, "--base-url", fake.base_url,
                 "--reference", "gpt4_1106_preview", "--generator", "alpaca-7b", "--seeds", str(seed)])  # fmt: skip
    assert code == 0
    store = Store(db)
    frame = store.annotations_frame(sources=["judge"], generators=["alpaca-7b"])
    store.close()
    return db, frame


@pytest.fixture
def biased_fake(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "dummy-key")
    with FakeOpenAI() as server:
        yield server


@pytest.mark.parametrize(("config", "seed"), [
    ("weighted_alpaca_eval_gpt4_turbo", 0),   # logprob_parser, completions_all
    ("weighted_alpaca_eval_gpt4_turbo", 3),   # another seed: another order per pair
    ("alpaca_eval_gpt4_turbo_fn", 0),         # tools + pipeline_meta_parser(json, ranking)
    ("alpaca_eval_gpt4", 0),                  # ranking_parser on a Python-literal text
    ("alpaca_eval_cot_gpt4_turbo_fn", 1),     # + ChainOfThoughtProcessor's columns
])  # fmt: skip
def test_same_preferences_as_alpaca_eval(alpaca_dir, tmp_path, biased_fake, config, seed, capsys):
    ref, mod = _pairs(alpaca_dir)
    lb, annotations = _run_alpaca(ref, mod, config, seed, biased_fake, tmp_path, tmp_path / "cache.json")
    alpaca_bodies = sorted(json.dumps(b, sort_keys=True) for b in biased_fake.bodies)
    assert biased_fake.chat_requests == N_PAIRS - 1  # the identical pair is 1.5 without a call
    biased_fake.bodies.clear()
    db, frame = _run_tiebreak(ref, mod, config, seed, biased_fake, tmp_path)
    out = capsys.readouterr().out
    assert f"judge {config}, run" in out
    if config.startswith("alpaca_eval_cot"):
        _same_processor_columns(db, config, annotations, tmp_path)

    # the very same requests (prompt, roles, completions_kwargs, defaults such as top_p)
    assert sorted(json.dumps(b, sort_keys=True) for b in biased_fake.bodies) == alpaca_bodies
    theirs = {a["instruction"]: a for a in annotations}
    ours = {r.instruction: r for r in frame.itertuples()}
    assert len(ours) == len(theirs) == N_PAIRS
    fractional = 0
    for instruction, a in theirs.items():
        p_theirs, row = a["preference"], ours[instruction]
        if p_theirs is None or (isinstance(p_theirs, float) and math.isnan(p_theirs)):
            assert math.isnan(row.preference), instruction  # unparsable: null, as AlpacaEval
            assert pd.isna(row.raw_completion) and instruction.endswith("NONSENSE")
            continue
        assert row.preference == pytest.approx(p_theirs, abs=1e-9), instruction
        fractional += p_theirs not in (1.0, 1.5, 2.0)
        raw = a.get("preference_raw_completion")
        if isinstance(raw, dict):
            assert json.loads(row.raw_completion) == raw
        elif isinstance(raw, str):
            assert row.raw_completion == raw
    if config.startswith("weighted"):
        assert fractional >= 30
    # the position bias matters: the two orders of one pair get different answers
    keep = frame["preference"].notna()
    ours_wr = 100 * (frame.loc[keep, "preference"] - 1).mean()
    assert ours_wr == pytest.approx(lb["win_rate"], abs=1e-9)
    assert int(lb["n_total"]) == int(keep.sum()) == N_PAIRS - 1


def _same_processor_columns(db, config, annotations, tmp_path):
    """concise_explanation / referenced_models in the exported file equal AlpacaEval's."""
    exported = tmp_path / "export.json"
    assert main(["export", "--db", str(db), "--format", "alpaca-eval", "--annotator", config, "--extra-columns",
                 "-o", str(exported)]) == 0  # fmt: skip
    ours = {r["instruction"]: r for r in json.loads(exported.read_text())}
    checked = 0
    for a in annotations:
        if a["preference"] is None or pd.isna(a["preference"]):
            continue
        row = ours[a["instruction"]]
        for column in ("concise_explanation", "referenced_models"):
            theirs = a.get(column)
            theirs = None if not isinstance(theirs, (str, dict)) else theirs  # NaN: not annotated (a tie)
            assert row.get(column) == theirs, (a["instruction"], column)
        checked += isinstance(a.get("referenced_models"), dict)
    assert checked == N_PAIRS - 2  # every parsed, non-identical pair


def test_the_order_rule_is_alpaca_evals_and_the_judge_is_position_biased(alpaca_dir):
    from tests.support.fake_openai import alpaca_rule
    from tiebreak.core.judge import load_config
    from tiebreak.core.judge.prompts import order_swapped, request_body, shown_swapped

    config = load_config("weighted_alpaca_eval_gpt4_turbo")
    ref, mod = _pairs(alpaca_dir)
    for seed in (0, 1, 2, 3):
        ours = [order_swapped(config, r["instruction"], r["output"], m["output"], seed) for r, m in zip(ref, mod, strict=True)]
        expected = [random.Random("is_switched_outputs" + r["instruction"] + str(seed)).choices([False, True])[0]
                    for r in ref]  # fmt: skip
        assert ours == expected and 5 < sum(ours) < 35
        tiebreak_coin = [shown_swapped(r["instruction"], r["output"], m["output"], seed) for r, m in zip(ref, mod, strict=True)]
        assert tiebreak_coin != ours  # the built-in rule differs: using it would break parity
    first_wins_both_ways = 0
    for r, m in zip(ref, mod, strict=True):
        p_ab = alpaca_rule(request_body(config, r["instruction"], r["output"], m["output"]))[0]
        p_ba = alpaca_rule(request_body(config, r["instruction"], m["output"], r["output"]))[0]
        assert abs(p_ab + p_ba - 1) > 0.05  # P(first) in both orders does not add up to 1: position bias
        first_wins_both_ways += p_ab >= 0.5 and p_ba >= 0.5
    assert first_wins_both_ways >= 8  # so even a binary judge's verdict depends on the order shown


def test_exported_annotations_are_an_alpaca_eval_cache(alpaca_dir, tmp_path, biased_fake):
    ref, mod = _pairs(alpaca_dir)
    ref.pop(NONSENSE_AT)  # null preferences are asked again by alpaca_eval (its own files too)
    mod.pop(NONSENSE_AT)
    config = "weighted_alpaca_eval_gpt4_turbo"
    db, frame = _run_tiebreak(ref, mod, config, 0, biased_fake, tmp_path)
    exported = tmp_path / "annotations.json"
    assert main(["export", "--db", str(db), "--format", "alpaca-eval", "--annotator", config,
                 "--output", str(exported)]) == 0  # fmt: skip
    calls = biased_fake.chat_requests
    lb, annotations = _run_alpaca(ref, mod, config, 0, biased_fake, tmp_path, exported)
    assert biased_fake.chat_requests == calls  # every verdict came from the exported file
    assert 100 * (frame["preference"] - 1).mean() == pytest.approx(lb["win_rate"], abs=1e-9)
    ours = dict(zip(frame["instruction"], frame["preference"], strict=True))
    assert all(ours[a["instruction"]] == pytest.approx(a["preference"], abs=1e-12) for a in annotations)
