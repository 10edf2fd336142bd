"""AlpacaEval's completion parsers (completion_parsers.py, 0.6.6), reproduced for batch size 1.

Each parser returns a list of annotations (one per example of the batch); anything that raises,
or a list of the wrong length, makes the answer unparsable (NaN), exactly as AlpacaEval's
``SingleAnnotator._parse_completions`` does.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable
from typing import Any

__all__ = ["ALPACA_PARSERS", "alpaca_text", "alpaca_choice", "parse_alpaca"]


def regex_parser(completion: str, outputs_to_match: dict[Any, Any]) -> list[Any]:
    """Keys of ``outputs_to_match`` in the order their regexes match (earliest match first)."""
    if completion == "":
        raise ValueError("The completion is empty.")
    patterns = {k: v if isinstance(v, re.Pattern) else re.compile(v) for k, v in outputs_to_match.items()}
    responses = []
    while True:
        first, first_key = None, None
        for key, regex in patterns.items():
            match = regex.search(completion)
            if match and (not first or match.start() < first.start()):
                first, first_key = match, key
        if not first:
            break
        responses.append(first_key)
        completion = completion[first.end():]
    return responses


def lmsys_parser(completion: str) -> list[Any]:
    """Two scores on the first line: the higher wins, 0 for equal."""
    if completion == "":
        raise ValueError("The completion is empty.")
    try:
        parts = completion.split("\n")[0].replace(",", " ").split(" ")
        if len(parts) != 2:
            raise ValueError("Invalid score pair.")
        a, b = float(parts[0]), float(parts[1])
        return [1 if a > b else 2 if a < b else 0]
    except Exception:  # noqa: BLE001 - AlpacaEval returns NaN on any failure
        return [math.nan]


def ranking_parser(completion: Any, model_1_name: str = "model_1") -> list[Any]:
    """The rank of ``model_1_name`` in a list of ``{'model': ..., 'rank': ...}`` (NaN if not 1 or 2)."""
    if completion == "":
        raise ValueError("The completion is empty.")
    try:
        ordered = ast.literal_eval(completion) if isinstance(completion, str) else completion
        rank = [c for c in ordered if c["model"] == model_1_name][0]["rank"]
        if rank not in [1, 2]:
            raise ValueError(f"rank {rank!r}")
        return [rank]
    except Exception:  # noqa: BLE001 - AlpacaEval returns NaN on any failure
        return [math.nan]


def json_parser(completion: str, annotation_key: str | None) -> list[Any]:
    """``annotation_key`` of a JSON object (or of each object of a list); ```json blocks allowed."""
    if completion == "":
        raise ValueError("The completion is empty.")
    if "```json" in completion:
        match = re.search(r"```json(.*?)```", completion, re.DOTALL)
        if match is None:
            raise ValueError("unterminated ```json block")
        completion = match.group(1)
    loaded = json.loads(completion)
    if isinstance(loaded, dict):
        return [loaded[annotation_key] if annotation_key is not None else loaded]
    return [d[annotation_key] if annotation_key is not None else d for d in loaded]


def eval_parser(completion: str) -> list[Any]:
    """``ast.literal_eval`` of the completion, as a list."""
    if completion == "":
        raise ValueError("The completion is empty.")
    value = ast.literal_eval(completion)
    return value if isinstance(value, list) else [value]


def replace_parser(completion: str, replacer: dict[Any, Any], default_replacer: Any = "auto") -> list[Any]:
    """The completion mapped through ``replacer``."""
    if completion == "":
        raise ValueError("The completion is empty.")
    return [replacer.get(completion, completion if default_replacer == "auto" else default_replacer)]


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(v - top) for v in values))


def logprob_parser(completion: Any, numerator_token: str, denominator_tokens: list[str],
                   is_binarize: bool = True, log_prob_index: str | int = "batch") -> list[float]:  # fmt: skip
    """P(numerator) among the denominator tokens in the top logprobs, as ``2 - P``.

    Tokens match exactly (``" M"`` is not ``"M"``); a missing token has probability 0; none of
    them present gives NaN.
    """
    if completion == "":
        raise ValueError("The completion is empty.")
    if not isinstance(completion, dict) or "content" not in (completion.get("logprobs") or {}):
        raise ValueError("no logprobs in the completion")
    wanted = list(denominator_tokens) + [numerator_token]

    def single(top_logprobs: list[dict[str, Any]]) -> float:
        found = {t["token"]: t["logprob"] for t in top_logprobs if t["token"] in wanted}
        if not found:
            return math.nan
        numerator = found.get(numerator_token, -math.inf)
        if is_binarize:
            others = [found.get(t, -math.inf) for t in denominator_tokens if t != numerator_token]
            return 1 if all(numerator > o for o in others) else 2
        denominator = _logsumexp([found.get(t, -math.inf) for t in denominator_tokens])
        return 2 - math.exp(numerator - denominator)

    content = completion["logprobs"]["content"]
    if log_prob_index == "batch":
        if not content:
            raise ValueError("empty logprobs content")
        return [single(c["top_logprobs"]) for c in content]
    return [single(content[int(log_prob_index)]["top_logprobs"])]


def pipeline_meta_parser(completion: Any, parsers_to_kwargs: dict[str, dict[str, Any]],
                         is_squeeze: bool = True, _depth: int = 0) -> list[Any]:  # fmt: skip
    """Apply parsers in sequence (each on every element the previous one returned)."""
    if completion == "":
        raise ValueError("The completion is empty.")
    names, kwargs = list(parsers_to_kwargs), list(parsers_to_kwargs.values())
    out: Any = ALPACA_PARSERS[names[0]](completion, **kwargs[0])
    rest = dict(zip(names[1:], kwargs[1:], strict=True))
    if rest:
        out = [pipeline_meta_parser(o, parsers_to_kwargs=rest, is_squeeze=is_squeeze, _depth=_depth + 1)
               for o in out]  # fmt: skip
    if is_squeeze and len(out) == 1 and _depth != 0:
        out = out[0]
    return list(out) if _depth == 0 else out


ALPACA_PARSERS: dict[str, Callable[..., Any]] = {
    "regex_parser": regex_parser, "lmsys_parser": lmsys_parser, "ranking_parser": ranking_parser,
    "json_parser": json_parser, "eval_parser": eval_parser, "replace_parser": replace_parser,
    "logprob_parser": logprob_parser, "pipeline_meta_parser": pipeline_meta_parser,
}  # fmt: skip


def alpaca_text(choice: dict[str, Any]) -> str:
    """What AlpacaEval parses with completion_key 'completions': content, " " if empty, or the
    first tool call's (or the function call's) arguments."""
    message = choice.get("message") or {}
    text = message.get("content")
    text = " " if text == "" else text
    if message.get("function_call"):
        text = message["function_call"].get("arguments")
    if message.get("tool_calls"):
        text = message["tool_calls"][0]["function"]["arguments"]
    return text if isinstance(text, str) else ""


def alpaca_choice(completion: dict[str, Any]) -> dict[str, Any]:
    """AlpacaEval's 'completions_all' entry: the choice as the openai SDK dumps it, plus text and tokens."""
    from openai.types.chat.chat_completion import ChatCompletion

    parsed = ChatCompletion.model_validate(completion)
    choice = parsed.choices[0]
    dumped: dict[str, Any] = choice.model_dump()
    dumped["text"] = alpaca_text(dumped)
    usage = parsed.usage
    dumped["total_tokens"] = float(usage.total_tokens) if usage is not None else None
    return dumped


def parse_alpaca(parser: str, kwargs: dict[str, Any], completion: Any) -> float:
    """One annotation (a preference in the shown order), NaN when AlpacaEval would record none.

    The parser's list must have exactly one element (batch size 1) that is a number in [1, 2].
    (AlpacaEval stops the whole run with an assertion on a value outside [1, 2]; Tiebreak records
    that answer as unparsable instead.)
    """
    try:
        values = list(ALPACA_PARSERS[parser](completion, **kwargs))
    except Exception:  # noqa: BLE001 - AlpacaEval records any parser failure as no annotation
        return math.nan
    if len(values) != 1 or values[0] is None:
        return math.nan
    try:
        value = float(values[0])
    except (TypeError, ValueError):
        return math.nan
    if math.isnan(value) or not 1 <= value <= 2:
        return math.nan
    return value
