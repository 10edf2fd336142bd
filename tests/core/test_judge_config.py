"""Judge configuration files: built-ins, validation messages, user files, hashing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tiebreak.core.judge.config import (
    ConfigError,
    builtin_dir,
    list_configs,
    load_config,
    parse_config_text,
    save_user_config,
    user_dir,
)  # fmt: skip

MINIMAL = """
name = "mine"
model = "local-model"
parser = "ranking"
answer = "text"
[prompt]
user = "Q: {instruction}\\n1: {first_output}\\n2: {second_output}"
"""


def test_builtins_load_with_their_settings():
    configs = list_configs()
    ranking, weighted = configs["tiebreak-ranking"], configs["tiebreak-weighted"]
    assert ranking.parser == "ranking" and ranking.answer == "tool" and ranking.source == "builtin"
    assert weighted.parser == "weighted" and weighted.max_tokens == 1 and weighted.top_logprobs == 5
    assert weighted.price_per_input_token > 0 and weighted.seeds == (0,)
    assert {p.stem for p in builtin_dir().glob("*.toml")} >= {"tiebreak-ranking", "tiebreak-weighted"}


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("{second_output}", ""), "field prompt.user: missing placeholder {second_output}"),
    (lambda t: t.replace('parser = "ranking"', 'parser = "vibes"'), "field parser: must be one of"),
    (lambda t: "foo = 1\n" + t, "field foo: unknown field"),
    (lambda t: t + "\nfoo = 1", "field prompt.foo: unknown field"),
    (lambda t: t.replace('model = "local-model"', "model = 3"), "field model: expected str"),
    (lambda t: "seeds = [1, 1]\n" + t, "field seeds"),
    (lambda t: "temperature = 5\n" + t, "field temperature: must be in [0, 2]"),
    (lambda t: "max_tokens = 5\n" + t.replace('"ranking"', '"weighted"'), "field max_tokens: must be 1"),
    (lambda t: t.replace("name = ", "name = ["), "not valid TOML"),
])  # fmt: skip
def test_invalid_configs_say_what_and_where(edit, message):
    with pytest.raises(ConfigError, match=r"^my.toml: ") as info:
        parse_config_text(edit(MINIMAL), "my.toml")
    assert message in str(info.value)


def test_user_configs_are_listed_saved_and_shadow_builtins():
    saved = save_user_config(MINIMAL)
    assert saved.path == user_dir() / "mine.toml" and saved.source == "user"
    assert load_config("mine").model == "local-model"
    assert load_config(str(saved.path)).name == "mine"
    shadow = (builtin_dir() / "tiebreak-ranking.toml").read_text().replace(
        'price_per_input_token = 0.00000015', 'price_per_input_token = 0.000001')
    save_user_config(shadow)
    ranking = list_configs()["tiebreak-ranking"]
    assert ranking.source == "user" and ranking.price_per_input_token == 1e-6
    with pytest.raises(ConfigError, match="already exists"):
        save_user_config(MINIMAL, overwrite=False)
    with pytest.raises(ConfigError, match="'nope' not found"):
        load_config("nope")


def test_weighted_defaults_to_one_token():
    text = MINIMAL.replace('"ranking"', '"weighted"')
    assert parse_config_text(text, "w.toml").max_tokens == 1


def test_hash_covers_what_changes_answers_only():
    config = load_config("tiebreak-ranking")
    assert replace(config, price_per_input_token=9.0).config_hash() == config.config_hash()
    assert replace(config, seeds=(0, 1, 2)).config_hash() == config.config_hash()
    assert config.with_model("other").config_hash() != config.config_hash()
    assert replace(config, user_template=config.user_template + " ").config_hash() != config.config_hash()
