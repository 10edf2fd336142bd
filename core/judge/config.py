"""Judge configurations: TOML files (built-in in resources/judges, user ones in the config dir),
and AlpacaEval evaluator configurations read as they are (see alpaca_config)."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tiebreak.core.errors import TiebreakError
from tiebreak.core.paths import resource_path, user_config_dir

__all__ = [
    "JudgeConfig", "ConfigError", "PARSERS", "PLACEHOLDERS", "builtin_dir", "user_dir",
    "list_configs", "load_config", "parse_config_text", "save_user_config",
]  # fmt: skip

PARSERS = ("ranking", "weighted")
ANSWER_MODES = ("tool", "text")
PLACEHOLDERS = ("instruction", "first_output", "second_output")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ConfigError(TiebreakError, ValueError):
    """A judge configuration file is missing, unreadable or invalid (message says where)."""


@dataclass(frozen=True)
class JudgeConfig:
    """One judge: prompt, model and decoding settings, parser, prices, seeds, order handling."""

    name: str
    model: str
    parser: str
    user_template: str
    system_prompt: str = ""
    description: str = ""
    temperature: float = 0.0
    max_tokens: int = 256
    answer: str = "tool"
    top_logprobs: int = 5
    price_per_input_token: float = 0.0
    price_per_output_token: float = 0.0
    batch_price_factor: float = 0.5
    seeds: tuple[int, ...] = (0,)
    both_orders: bool = False
    timeout: float = 60.0
    max_retries: int = 6
    source: str = "builtin"
    path: Path | None = field(default=None, compare=False)
    #: An AlpacaEval evaluator (parser "alpaca"): an ``alpaca_config.AlpacaSpec``.
    alpaca: Any = None

    def with_model(self, model: str | None) -> JudgeConfig:
        """The same configuration with another model (None keeps it)."""
        return self if not model or model == self.model else replace(self, model=model)

    def identity(self) -> dict[str, Any]:
        """Everything that changes what the judge answers (the cache and provenance key)."""
        if self.alpaca is not None:
            return {"parser": "alpaca", "model": self.model, **self.alpaca.identity()}
        return {
            "parser": self.parser,
            "model": self.model,
            "system_prompt": self.system_prompt,
            "user_template": self.user_template,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "answer": self.answer if self.parser == "ranking" else None,
            "top_logprobs": self.top_logprobs if self.parser == "weighted" else None,
        }

    def config_hash(self) -> str:
        """Short sha256 of :meth:`identity` (the cache key part)."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def provenance(self) -> dict[str, Any]:
        """What is stored with the annotator: identity, prices and order handling (no secrets)."""
        return {
            "name": self.name,
            "source": self.source,
            **({"file": str(self.path)} if self.alpaca is not None and self.path else {}),
            **self.identity(),
            "both_orders": self.both_orders,
            "price_per_input_token": self.price_per_input_token,
            "price_per_output_token": self.price_per_output_token,
            "config_hash": self.config_hash(),
        }


_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "name"),
    "description": (str, "description"),
    "model": (str, "model"),
    "parser": (str, "parser"),
    "temperature": ((int, float), "temperature"),
    "max_tokens": (int, "max_tokens"),
    "answer": (str, "answer"),
    "top_logprobs": (int, "top_logprobs"),
    "price_per_input_token": ((int, float), "price_per_input_token"),
    "price_per_output_token": ((int, float), "price_per_output_token"),
    "batch_price_factor": ((int, float), "batch_price_factor"),
    "seeds": (list, "seeds"),
    "both_orders": (bool, "both_orders"),
    "timeout": ((int, float), "timeout"),
    "max_retries": (int, "max_retries"),
    "prompt": (dict, "prompt"),
}


def _check(cond: bool, where: str, key: str, problem: str) -> None:
    if not cond:
        raise ConfigError(f"{where}: field {key}: {problem}")


def _check_prompt(prompt: dict[str, Any], where: str) -> tuple[str, str]:
    """(system, user) of the ``[prompt]`` table, validated."""
    for key in prompt:
        _check(key in ("system", "user"), where, f"prompt.{key}", "unknown field")
    user = prompt.get("user")
    if not isinstance(user, str) or user.strip() == "":
        raise ConfigError(f"{where}: field prompt.user: missing or empty")
    for name in PLACEHOLDERS:
        _check("{" + name + "}" in user, where, "prompt.user", f"missing placeholder {{{name}}}")
    system = prompt.get("system", "")
    if not isinstance(system, str):
        raise ConfigError(f"{where}: field prompt.system: expected a string")
    return system, user


def _check_values(data: dict[str, Any], where: str) -> None:
    """Ranges and choices of the top-level fields (types were checked before)."""
    _check(bool(data["name"]) and bool(_NAME_RE.match(data["name"])), where, "name",
           "1-64 letters, digits, '.', '_' or '-'")  # fmt: skip
    _check("model" in data and data["model"].strip() != "", where, "model", "missing")
    _check(data.get("parser") in PARSERS, where, "parser", f"must be one of {', '.join(PARSERS)}")
    _check(data.get("answer", "tool") in ANSWER_MODES, where, "answer",
           f"must be one of {', '.join(ANSWER_MODES)}")  # fmt: skip
    _check(0 <= data.get("temperature", 0) <= 2, where, "temperature", "must be in [0, 2]")
    _check(data.get("max_tokens", 1) >= 1, where, "max_tokens", "must be >= 1")
    _check(1 <= data.get("top_logprobs", 5) <= 20, where, "top_logprobs", "must be in [1, 20]")
    for key in ("price_per_input_token", "price_per_output_token", "batch_price_factor"):
        _check(data.get(key, 0) >= 0, where, key, "must be >= 0")
    _check(data.get("timeout", 1) > 0, where, "timeout", "must be > 0")
    _check(data.get("max_retries", 0) >= 0, where, "max_retries", "must be >= 0")
    seeds = data.get("seeds", [0])
    _check(len(seeds) > 0 and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                  for s in seeds) and len(set(seeds)) == len(seeds),
           where, "seeds", "a non-empty list of distinct integers >= 0")  # fmt: skip
    if data["parser"] == "weighted":
        data.setdefault("max_tokens", 1)
        _check(data["max_tokens"] == 1, where, "max_tokens", "must be 1 for parser weighted")


def parse_config_text(text: str, where: str, *, default_name: str | None = None,
                      source: str = "user", path: Path | None = None) -> JudgeConfig:  # fmt: skip
    """Parse and validate the TOML text of one configuration.

    Parameters
    ----------
    text : str
        TOML document.
    where : str
        Name used in error messages (usually the file path).
    default_name : str, optional
        Name when the file has no ``name`` (the file stem).

    Raises
    ------
    ConfigError
        With ``WHERE: field KEY: problem`` for any invalid or unknown field.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    for key, value in data.items():
        _check(key in _FIELDS, where, key, "unknown field")
        types = _FIELDS[key][0]
        ok = isinstance(value, types) and not (types is not bool and isinstance(value, bool))
        _check(ok, where, key, f"expected {getattr(types, '__name__', 'a number')}, got {value!r}")
    system, user = _check_prompt(data.pop("prompt", {}), where)
    data.setdefault("name", default_name)
    _check_values(data, where)
    seeds = data.pop("seeds", [0])
    kwargs: dict[str, Any] = {
        k: (float(v) if isinstance(v, int) and _FIELDS[k][0] == (int, float) else v)
        for k, v in data.items()
    }
    return JudgeConfig(
        user_template=user, system_prompt=system, seeds=tuple(seeds), source=source, path=path,
        **kwargs,
    )


def builtin_dir() -> Path:
    """Folder of the configurations shipped with Tiebreak."""
    return resource_path("judges")


def user_dir() -> Path:
    """Folder of the user's own configurations (created on demand)."""
    path = user_config_dir() / "judges"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _load_file(path: Path, source: str) -> JudgeConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config_text(text, str(path), default_name=path.stem, source=source, path=path)


def list_configs() -> dict[str, JudgeConfig]:
    """All configurations by name; a user file shadows a built-in of the same name.

    Raises
    ------
    ConfigError
        When any file is invalid (the message names the file).
    """
    found: dict[str, JudgeConfig] = {}
    for source, folder in (("builtin", builtin_dir()), ("user", user_dir())):
        for path in sorted(folder.glob("*.toml")):
            config = _load_file(path, source)
            if config.name in found and found[config.name].source == source:
                raise ConfigError(f"{path}: field name: {config.name!r} is used by two files")
            found[config.name] = config
    return found


def load_config(name_or_path: str) -> JudgeConfig:
    """A configuration by name or path.

    A ``.toml`` path, then a Tiebreak name (user first, then built-in), then an AlpacaEval
    evaluator: a ``configs.yaml`` path (or its folder), or the name of a configuration of the
    installed ``alpaca_eval`` package (read in place, never copied).
    """
    from tiebreak.core.judge.alpaca_config import (
        find_alpaca_config,
        installed_alpaca_names,
        load_alpaca_config,
    )  # fmt: skip

    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return _load_file(path, "file")
    configs = list_configs()
    if name_or_path in configs:
        return configs[name_or_path]
    alpaca = find_alpaca_config(name_or_path)
    if alpaca is not None:
        return load_alpaca_config(alpaca)
    known = ", ".join(sorted(configs)) or "none"
    names = installed_alpaca_names()
    hint = (f"; AlpacaEval configurations: {', '.join(names)}" if names else
            "; AlpacaEval configurations need alpaca_eval installed, or a path to a configs.yaml")
    raise ConfigError(f"judge configuration {name_or_path!r} not found (known: {known}{hint})")


def save_user_config(text: str, *, overwrite: bool = True) -> JudgeConfig:
    """Validate TOML ``text`` and write it to the user folder as ``<name>.toml``.

    Raises
    ------
    ConfigError
        If the text is invalid, or the file exists and ``overwrite`` is False.
    """
    config = parse_config_text(text, "edited configuration", source="user")
    path = user_dir() / f"{config.name}.toml"
    if path.exists() and not overwrite:
        raise ConfigError(f"{path}: already exists")
    path.write_text(text, encoding="utf-8")
    return replace(config, path=path)
