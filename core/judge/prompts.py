"""Prompt rendering, the seeded order coin and the chat-completion request body of a judge call."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from tiebreak.core.judge.config import JudgeConfig

__all__ = ["TOOL_NAME", "VERDICT_TOOL", "shown_swapped", "order_swapped", "render_messages", "request_body"]

TOOL_NAME = "submit_verdict"

#: The function the ranking judge calls (answer = "tool").
VERDICT_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Submit which answer is better.",
        "parameters": {
            "type": "object",
            "properties": {
                "better": {"type": "integer", "enum": [1, 2], "description": "1 or 2"},
                "explanation": {"type": "string", "description": "one short sentence"},
            },
            "required": ["better"],
        },
    },
}

_PLACEHOLDER_RE = re.compile(r"\{(instruction|first_output|second_output)\}")


def shown_swapped(instruction: str, output_1: str, output_2: str, seed: int) -> bool:
    """The seeded coin: True when output_2 (the candidate) is shown first.

    A deterministic function of the texts and the seed (sha256), so it is the same on every
    machine and every rerun, independent of database ids.

    Parameters
    ----------
    instruction, output_1, output_2 : str
        The comparison, in canonical order (output_1 = reference).
    seed : int
        The judge seed (AlpacaEval's annotator_index).

    Returns
    -------
    bool
    """
    digest = hashlib.sha256()
    for part in (str(seed), instruction, output_1, output_2):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.digest()[0] & 1 == 1


def order_swapped(config: JudgeConfig, instruction: str, output_1: str, output_2: str, seed: int) -> bool:
    """The shown order of one (comparison, seed): AlpacaEval's own rule for its configurations,
    Tiebreak's sha256 coin (:func:`shown_swapped`) for Tiebreak's."""
    if config.alpaca is not None:
        from tiebreak.core.judge.alpaca_config import alpaca_switched

        values = {"instruction": instruction, "output_1": output_1, "output_2": output_2}
        return alpaca_switched(config.alpaca, values, seed)
    return shown_swapped(instruction, output_1, output_2, seed)


def render_messages(config: JudgeConfig, instruction: str, first: str, second: str) -> list[dict[str, str]]:
    """Chat messages of one judgement, ``first`` being the output shown first.

    Only the three placeholders are replaced, in one pass, so braces inside the texts (or the
    template) are left alone and an output cannot inject a placeholder.
    """
    values = {"instruction": instruction, "first_output": first, "second_output": second}
    user = _PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], config.user_template.strip())
    messages = [{"role": "user", "content": user}]
    if config.system_prompt.strip():
        messages.insert(0, {"role": "system", "content": config.system_prompt.strip()})
    return messages


def request_body(config: JudgeConfig, instruction: str, first: str, second: str) -> dict[str, Any]:
    """Keyword arguments of ``chat.completions.create`` (also the Batch API request body)."""
    if config.alpaca is not None:
        from tiebreak.core.judge.alpaca_config import alpaca_request_body

        return {**alpaca_request_body(config.alpaca, instruction, first, second), "model": config.model}
    body: dict[str, Any] = {
        "model": config.model,
        "messages": render_messages(config, instruction, first, second),
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
    }
    if config.parser == "weighted":
        body["logprobs"] = True
        body["top_logprobs"] = config.top_logprobs
    elif config.answer == "tool":
        body["tools"] = [VERDICT_TOOL]
        body["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
    return body
