"""Turn a chat completion (as a plain dict) into a preference in the *shown* order."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from tiebreak.core.errors import TiebreakError
from tiebreak.core.judge.config import JudgeConfig
from tiebreak.core.judge.prompts import TOOL_NAME

__all__ = ["Parsed", "ParseError", "LogprobsUnsupported", "parse_completion", "parse_ranking",
           "parse_weighted", "parse_alpaca_completion", "usage_tokens"]  # fmt: skip


class ParseError(TiebreakError, ValueError):
    """The judge answered, but not in a form the parser accepts (recorded as a failure)."""


class LogprobsUnsupported(ParseError):
    """The server returned no logprobs: the weighted judge cannot work with this endpoint."""


@dataclass(frozen=True)
class Parsed:
    """A parsed answer: preference in the shown order (1 = first shown better, 2 = second)."""

    raw_preference: float
    raw_completion: str
    rationale: str | None = None


def _message(completion: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    choices = completion.get("choices") or []
    if not choices:
        raise ParseError("the completion has no choices")
    choice = choices[0]
    return choice, choice.get("message") or {}


def _verdict_value(value: Any, where: str) -> float:
    if isinstance(value, str) and value.strip() in ("1", "2"):
        value = int(value.strip())
    if isinstance(value, bool) or value not in (1, 2):
        raise ParseError(f"{where}: 'better' must be 1 or 2, got {value!r}")
    return float(value)


_PLAIN_RE = re.compile(r"^\W*(?:answer|output)?\s*([12])\W*$", re.IGNORECASE)
_JSON_RE = re.compile(r"\{.*\}", re.DOTALL)


def parse_ranking(completion: dict[str, Any]) -> Parsed:
    """Parse the ranking judge: a ``submit_verdict`` tool call, a JSON object, or a bare 1/2.

    Raises
    ------
    ParseError
        When no verdict can be read; the message quotes (a prefix of) what was answered.
    """
    _, message = _message(completion)
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        if function.get("name") != TOOL_NAME:
            continue
        arguments = function.get("arguments") or ""
        try:
            data = json.loads(arguments)
        except json.JSONDecodeError:
            raise ParseError(f"tool call arguments are not JSON: {arguments[:80]!r}") from None
        if not isinstance(data, dict):
            raise ParseError(f"tool call arguments are not an object: {arguments[:80]!r}")
        return _from_object(data, arguments, "tool call")
    content = (message.get("content") or "").strip()
    if not content:
        raise ParseError("empty answer (no content and no submit_verdict tool call)")
    match = _JSON_RE.search(content)
    if match:
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and "better" in data:
            return _from_object(data, content, "JSON answer")
    plain = _PLAIN_RE.match(content)
    if plain:
        return Parsed(float(plain.group(1)), content, None)
    raise ParseError(f"no verdict (1 or 2) in the answer: {content[:80]!r}")


def _from_object(data: dict[str, Any], raw: str, where: str) -> Parsed:
    if "better" not in data:
        raise ParseError(f"{where}: no 'better' field in {raw[:80]!r}")
    explanation = data.get("explanation")
    rationale = explanation.strip() if isinstance(explanation, str) and explanation.strip() else None
    return Parsed(_verdict_value(data["better"], where), raw, rationale)


def parse_weighted(completion: dict[str, Any], first: str = "m", second: str = "M") -> Parsed:
    """Parse the weighted judge from the first token's top logprobs.

    P(first) = exp(lp_first) / (exp(lp_first) + exp(lp_second)); a label missing from the top
    logprobs counts as probability 0 (tokens equal after stripping whitespace are summed). The
    preference in shown order is 2 - P(first), i.e. 1 + P(second better).

    Raises
    ------
    LogprobsUnsupported
        When the response carries no logprobs at all.
    ParseError
        When neither label is among the top logprobs.
    """
    choice, message = _message(completion)
    logprobs = choice.get("logprobs") or {}
    content = logprobs.get("content") or []
    if not content or content[0].get("top_logprobs") in (None, []):
        raise LogprobsUnsupported(
            "the server returned no top_logprobs; the weighted judge needs an endpoint that "
            "supports logprobs (e.g. OpenAI, or vLLM with --max-logprobs >= 5)"
        )
    top = [(str(t.get("token", "")), float(t.get("logprob", -math.inf))) for t in content[0]["top_logprobs"]]
    mass = {first: 0.0, second: 0.0}
    for token, logprob in top:
        if token.strip() in mass:
            mass[token.strip()] += math.exp(logprob)
    raw = json.dumps({"content": message.get("content"), "top_logprobs": top})
    total = mass[first] + mass[second]
    if total <= 0:
        raise ParseError(f"neither {first!r} nor {second!r} among the top logprobs: "
                         f"{[t for t, _ in top]!r}")  # fmt: skip
    return Parsed(2.0 - mass[first] / total, raw, None)


def parse_alpaca_completion(config: JudgeConfig, completion: dict[str, Any]) -> Parsed:
    """Parse with the AlpacaEval configuration's own parser; NaN = unparsable (as AlpacaEval).

    The raw completion is what AlpacaEval stores as ``preference_raw_completion``: the text
    (content, or the tool call's arguments) or, with ``completion_key: completions_all``, the
    choice as the openai SDK dumps it (JSON text).
    """
    from tiebreak.core.judge.alpaca_parsers import alpaca_choice, alpaca_text, parse_alpaca

    spec = config.alpaca
    choices = completion.get("choices") or []
    if not choices:
        raise ParseError("the completion has no choices")
    if spec.completion_key == "completions_all":
        try:
            choice = alpaca_choice(completion)
        except ValueError as exc:  # pydantic's ValidationError
            raise ParseError(f"not a chat completion: {str(exc)[:200]}") from None
        value = parse_alpaca(spec.parser, json.loads(spec.parser_kwargs), choice)
        raw = json.dumps(choice)
    else:
        raw = alpaca_text(choices[0])
        value = parse_alpaca(spec.parser, json.loads(spec.parser_kwargs), raw)
    return Parsed(value, raw, None)


def parse_completion(parser: str | JudgeConfig, completion: dict[str, Any]) -> Parsed:
    """Dispatch on the configuration (or its ``parser``: 'ranking' or 'weighted')."""
    if isinstance(parser, JudgeConfig):
        if parser.alpaca is not None:
            return parse_alpaca_completion(parser, completion)
        parser = parser.parser
    if parser == "ranking":
        return parse_ranking(completion)
    if parser == "weighted":
        return parse_weighted(completion)
    raise ValueError(f"unknown parser {parser!r}")


def usage_tokens(completion: dict[str, Any]) -> tuple[int | None, int | None]:
    """(prompt_tokens, completion_tokens) from the completion's usage, None when absent."""
    usage = completion.get("usage") or {}
    return usage.get("prompt_tokens"), usage.get("completion_tokens")
