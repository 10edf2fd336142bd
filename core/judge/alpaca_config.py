"""AlpacaEval evaluator configurations, read as they are (a configs.yaml, or an installed name)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiebreak.core.judge.config import ConfigError, JudgeConfig

__all__ = ["AlpacaSpec", "alpaca_dir", "installed_alpaca_names", "find_alpaca_config",
           "load_alpaca_config", "alpaca_switched", "render_prompt", "prompt_to_chatml",
           "alpaca_request_body", "price_per_token", "processor_columns"]  # fmt: skip

#: completions_kwargs keys that go into the request as they are.
REQUEST_KEYS = ("temperature", "max_tokens", "top_p", "logprobs", "top_logprobs", "tools",
                "tool_choice", "response_format", "seed", "stop", "presence_penalty",
                "frequency_penalty", "n")  # fmt: skip
#: completions_kwargs keys that only change how AlpacaEval calls (not what is asked).
LOCAL_KEYS = ("model_name", "price_per_token", "num_procs", "requires_chatml", "is_chat", "batch_size")
PARSERS = ("logprob_parser", "ranking_parser", "pipeline_meta_parser", "regex_parser", "json_parser",
           "eval_parser", "replace_parser", "lmsys_parser")  # fmt: skip
_CONFIG_KEYS = ("prompt_template", "fn_completions", "completions_kwargs", "fn_completion_parser",
                "completion_parser_kwargs", "completion_key", "batch_size", "is_randomize_output_order",
                "random_seed_column", "pretty_name", "link", "is_shuffle",
                "packages_for_which_to_show_version")  # fmt: skip
_PLACEHOLDER_RE = re.compile(r"{([^ \s]+?)}")  # AlpacaEval's utils.make_prompts
PROMPT_FIELDS = ("instruction", "output_1", "output_2")
#: Processors that only add columns read from the raw completion (the preference is unchanged).
PROCESSORS = ("ChainOfThoughtProcessor", "JsonKeysToColumnProcessor")


@dataclass(frozen=True)
class AlpacaSpec:
    """What an AlpacaEval configuration asks and how it reads the answer (JSON-able parts)."""

    name: str
    template: str
    template_path: str
    request: str  # JSON of the request's decoding keyword arguments (model included)
    parser: str
    parser_kwargs: str  # JSON
    completion_key: str
    randomize: bool
    seed_columns: tuple[str, ...]
    price_per_token: float | None
    processors: str = "{}"  # JSON of processors_to_kwargs (column-adding processors only)

    def request_kwargs(self) -> dict[str, Any]:
        """The decoding arguments sent with every request (a fresh copy)."""
        return dict(json.loads(self.request))

    def identity(self) -> dict[str, Any]:
        """Everything that changes the verdicts (hashed into the configuration version)."""
        return {"alpaca_name": self.name, "template": self.template, "request": json.loads(self.request),
                "parser": self.parser, "parser_kwargs": json.loads(self.parser_kwargs),
                "completion_key": self.completion_key, "randomize": self.randomize,
                "seed_columns": list(self.seed_columns), "processors": json.loads(self.processors)}  # fmt: skip


def alpaca_dir() -> Path | None:
    """The installed alpaca_eval package's folder (found without importing it), or None."""
    try:
        spec = importlib.util.find_spec("alpaca_eval")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_alpaca_names() -> list[str]:
    """Names of the evaluator configurations of the installed alpaca_eval (empty without it)."""
    root = alpaca_dir()
    if root is None:
        return []
    return sorted(p.parent.name for p in (root / "evaluators_configs").glob("*/configs.yaml"))


def find_alpaca_config(name_or_path: str) -> Path | None:
    """The configs.yaml meant by a path (file or folder) or an installed configuration name."""
    path = Path(name_or_path)
    if path.is_dir() and (path / "configs.yaml").is_file():
        return path / "configs.yaml"
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ConfigError(f"{path}: AlpacaEval configuration file not found")
        return path
    root = alpaca_dir()
    if root is not None and re.fullmatch(r"[\w.-]+", name_or_path):
        candidate = root / "evaluators_configs" / name_or_path / "configs.yaml"
        if candidate.is_file():
            return candidate
    return None


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{path}: expected a mapping 'NAME: {{prompt_template: ...}}'")
    return data


def _template(path: Path, entry: dict[str, Any], where: str) -> tuple[str, str]:
    """(template text, its path) read where AlpacaEval reads it: relative to evaluators_configs/."""
    value = entry.get("prompt_template")
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: field prompt_template: missing")
    for base in (path.parents[1], path.parent):
        candidate = base / value
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            break
    else:
        raise ConfigError(f"{where}: field prompt_template: file {value!r} not found next to "
                          f"{path.parents[1]}")  # fmt: skip
    found = set(_PLACEHOLDER_RE.findall(text))
    missing = [f for f in PROMPT_FIELDS if f not in found]
    unknown = sorted(found - set(PROMPT_FIELDS))
    if missing or unknown:
        raise ConfigError(f"{where}: prompt_template {value}: placeholders must be exactly "
                          f"{{instruction}}, {{output_1}}, {{output_2}} (missing {missing}, unknown {unknown})")  # fmt: skip
    return text, str(candidate)


def _request(kwargs: dict[str, Any], where: str) -> tuple[str, dict[str, Any], float | None]:
    """(model, request kwargs, price per token) from completions_kwargs, checked."""
    for key in kwargs:
        if key not in REQUEST_KEYS and key not in LOCAL_KEYS:
            raise ConfigError(f"{where}: field completions_kwargs.{key}: not supported by Tiebreak")
    model = kwargs.get("model_name")
    if not isinstance(model, str) or not model:
        raise ConfigError(f"{where}: field completions_kwargs.model_name: missing")
    if not kwargs.get("requires_chatml", kwargs.get("is_chat", _requires_chatml(model))):
        raise ConfigError(f"{where}: model {model!r} uses the legacy completions endpoint; only chat "
                          "models are supported")  # fmt: skip
    request = {k: kwargs[k] for k in REQUEST_KEYS if k in kwargs}
    # AlpacaEval's openai_completions: max_tokens 2048, top_p 1.0, temperature 0.7 unless given
    request.setdefault("max_tokens", 2048)
    request.setdefault("top_p", 1.0)
    request.setdefault("temperature", 0.7)
    price = kwargs.get("price_per_token")
    return model, {"model": model, **request}, None if price is None else float(price)


def _requires_chatml(model: str) -> bool:
    """AlpacaEval's rule (decoders/openai.py): which models take chat messages."""
    return not (("instruct" in model) or ("gpt-3" in model and "turbo" not in model) or model.startswith("text-"))


def _check_entry(entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping of settings")
    for key in entry:
        if key not in _CONFIG_KEYS and key != "processors_to_kwargs":
            raise ConfigError(f"{where}: field {key}: not supported by Tiebreak")
    for name in entry.get("processors_to_kwargs") or {}:
        if name not in PROCESSORS:
            raise ConfigError(f"{where}: field processors_to_kwargs.{name}: not supported by Tiebreak "
                              f"(supported: {', '.join(PROCESSORS)})")  # fmt: skip
    if entry.get("fn_completions", "openai_completions") != "openai_completions":
        raise ConfigError(f"{where}: field fn_completions: only openai_completions (an OpenAI-compatible "
                          f"endpoint) is supported, got {entry['fn_completions']!r}")  # fmt: skip
    if entry.get("batch_size", 1) != 1:
        raise ConfigError(f"{where}: field batch_size: only 1 is supported, got {entry['batch_size']!r}")
    parser = entry.get("fn_completion_parser", "regex_parser")
    if parser not in PARSERS:
        raise ConfigError(f"{where}: field fn_completion_parser: {parser!r} is not one of {', '.join(PARSERS)}")
    return entry


def load_alpaca_config(path: Path) -> JudgeConfig:
    """Read an AlpacaEval ``configs.yaml`` (one evaluator) into a judge configuration.

    The prompt template is read from where the configuration points (the installed package's
    ``evaluators_configs`` folder for installed names); nothing is copied.

    Raises
    ------
    ConfigError
        Naming the file and field for anything missing, invalid or not supported.
    """
    data = _read_yaml(path)
    if len(data) != 1:
        raise ConfigError(f"{path}: {len(data)} evaluators in one file ({', '.join(map(str, data))}); "
                          "Tiebreak runs one evaluator per file")  # fmt: skip
    name, raw_entry = next(iter(data.items()))
    where = f"{path}: {name}"
    entry = _check_entry(raw_entry, where)
    template, template_path = _template(path, entry, where)
    kwargs = entry.get("completions_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ConfigError(f"{where}: field completions_kwargs: expected a mapping")
    model, request, price = _request(kwargs, where)
    parser_kwargs = entry.get("completion_parser_kwargs") or {}
    seed_columns = tuple(sorted(entry.get("random_seed_column", ["instruction"])))
    if any(c not in PROMPT_FIELDS for c in seed_columns):
        raise ConfigError(f"{where}: field random_seed_column: only {', '.join(PROMPT_FIELDS)}")
    spec = AlpacaSpec(
        name=str(name), template=template, template_path=template_path,
        request=json.dumps(request, sort_keys=True), parser=entry.get("fn_completion_parser", "regex_parser"),
        parser_kwargs=json.dumps(parser_kwargs, sort_keys=True),
        completion_key=entry.get("completion_key", "completions"),
        randomize=bool(entry.get("is_randomize_output_order", True)), seed_columns=seed_columns,
        price_per_token=price, processors=json.dumps(entry.get("processors_to_kwargs") or {}),
    )  # fmt: skip
    if spec.completion_key not in ("completions", "completions_all"):
        raise ConfigError(f"{where}: field completion_key: 'completions' or 'completions_all'")
    return JudgeConfig(
        name=spec.name, model=model, parser="alpaca", user_template=template,
        description=str(entry.get("pretty_name") or f"AlpacaEval {spec.name}"),
        temperature=float(request["temperature"]), max_tokens=int(request["max_tokens"]),
        source="alpaca_eval", path=path, alpaca=spec,
    )  # fmt: skip


def alpaca_switched(spec: AlpacaSpec, values: dict[str, str], seed: int) -> bool:
    """AlpacaEval's order coin: ``random.Random("is_switched_outputs" + texts + seed)``.

    The seed string joins the ``random_seed_column`` texts (sorted names; the instruction by
    default) as RandomSwitchTwoColumnsProcessor does; True means output_2 is shown first.
    """
    if not spec.randomize:
        return False
    key = "is_switched_outputs" + "".join(values[c] for c in spec.seed_columns) + str(seed)
    return bool(random.Random(key).choices([False, True], k=1)[0])


def render_prompt(template: str, values: dict[str, str]) -> str:
    """AlpacaEval's make_prompts: each placeholder's first occurrence replaced, in template order."""
    prompt = template
    for name in dict.fromkeys(_PLACEHOLDER_RE.findall(template)):
        prompt = prompt.replace("{" + name + "}", str(values[name]), 1)
    return prompt


def prompt_to_chatml(prompt: str, start: str = "<|im_start|>", end: str = "<|im_end|>") -> list[dict[str, str]]:
    """AlpacaEval's utils.prompt_to_chatml: ``<|im_start|>ROLE\\ncontent<|im_end|>`` blocks to messages."""
    prompt = prompt.strip()
    if not (prompt.startswith(start) and prompt.endswith(end)):
        raise ConfigError(f"prompt template must start with {start} and end with {end}")
    messages: list[dict[str, str]] = []
    for part in prompt.split(start)[1:]:
        head, _, rest = part.partition("\n")
        role = head.strip()
        content = rest.split(end, 1)[0].strip()
        extra: dict[str, str] = {}
        if role.startswith("system") and role != "system":
            extra = {s.split("=", 1)[0]: s.split("=", 1)[1] for s in role.split("system", 1)[-1].split(" ") if s}
            role = "system"
        messages.append({"content": content, "role": role, **extra})
    return messages


def alpaca_request_body(spec: AlpacaSpec, instruction: str, first: str, second: str) -> dict[str, Any]:
    """The request AlpacaEval sends for one pair shown as (first, second)."""
    values = {"instruction": instruction, "output_1": first, "output_2": second}
    messages = prompt_to_chatml(render_prompt(spec.template, values).strip())
    kwargs = spec.request_kwargs()
    return {"messages": messages, **kwargs}


def price_per_token(spec: AlpacaSpec) -> float | None:
    """AlpacaEval's price per token (its table by model name) when the configuration sets none."""
    if spec.price_per_token is not None:
        return spec.price_per_token
    model = spec.request_kwargs()["model"]
    table = (("gpt-4o-mini-2024-07-18", 0.15 / 1_000_000), ("gpt-4-turbo", 0.01 / 1000),
             ("gpt-4-1106", 0.01 / 1000), ("gpt-4", 0.03 / 1000), ("gpt-3.5-turbo", 0.002 / 1000),
             ("text-davinci-003", 0.02 / 1000))  # fmt: skip
    return next((price for key, price in table if key in model), None)


def spec_hash(spec: AlpacaSpec) -> str:
    """Short sha256 of the spec's identity."""
    return hashlib.sha256(json.dumps(spec.identity(), sort_keys=True).encode()).hexdigest()[:16]


def processor_columns(spec: AlpacaSpec, raw: str | None, preference: float | None) -> dict[str, Any]:
    """The columns AlpacaEval's ChainOfThoughtProcessor / JsonKeysToColumnProcessor add.

    ``concise_explanation`` (and the JSON keys asked for) from the raw completion read as JSON;
    ``referenced_models`` maps the shown model names to output_1 / output_2 by the canonical
    preference (the processors run after the order is undone).
    """
    processors = json.loads(spec.processors)
    if not processors:
        return {}
    try:
        loaded = json.loads(raw) if raw is not None else None
    except ValueError:
        loaded = None
    data = loaded if isinstance(loaded, dict) else {}
    out: dict[str, Any] = {}
    for name, kwargs in processors.items():
        if name == "JsonKeysToColumnProcessor":
            out.update({key: data.get(key) for key in (kwargs or {}).get("json_keys_to_keep", [])})
            continue
        out["concise_explanation"] = data.get("concise_explanation")
        out["referenced_models"] = None
        if "concise_explanation" in data and "ordered_models" in data and preference in (1.0, 2.0):
            ranks = {m.get("rank"): m.get("model") for m in data["ordered_models"] if isinstance(m, dict)}
            if 1 in ranks and 2 in ranks:
                p = int(preference or 1)
                out["referenced_models"] = {ranks[1]: f"output_{p}", ranks[2]: f"output_{3 - p}"}
    return out
