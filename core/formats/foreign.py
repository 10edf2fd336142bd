"""Pairwise formats from other tools: detection by content, conversion to AlpacaEval-shaped records.

Each converter module (arena, mtbench, hf_jsonl, labelstudio, argilla) has ``NAME``,
``matches(record) -> bool`` and ``convert(path, records) -> records``: it turns the raw
records of its format into AlpacaEval annotation dicts (instruction, output_1, output_2,
generator_1, generator_2, annotator, preference, ...), which the ordinary record validation
then checks. A problem in a source field is a FormatError naming that field and its record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import FormatError

Numbered = list[tuple[int, dict[str, Any]]]


def pick(rec: dict[str, Any], names: Sequence[str]) -> str | None:
    """The first of ``names`` present (not None) in ``rec``."""
    return next((n for n in names if rec.get(n) is not None), None)


def text_of(path: Path, n: int, field: str, value: Any) -> str:
    """A required string value (FormatError naming ``field`` otherwise)."""
    if not isinstance(value, str):
        got = "nothing" if value is None else type(value).__name__
        raise FormatError(path, n, field, f"expected a string, got {got}")
    return value


def conversation(path: Path, n: int, field: str, value: Any) -> tuple[str, str]:
    """(user turns, assistant turns) of an OpenAI-style message list, each joined by blank lines."""
    if not isinstance(value, list) or not value:
        raise FormatError(path, n, field, "expected a non-empty list of {role, content} messages")
    users, assistants = [], []
    for i, msg in enumerate(value):
        if not isinstance(msg, dict) or not isinstance(msg.get("content"), str):
            raise FormatError(path, n, f"{field}[{i}]", "expected a message with a string content")
        role = msg.get("role")
        if role == "user":
            users.append(msg["content"])
        elif role == "assistant":
            assistants.append(msg["content"])
        elif role != "system":
            raise FormatError(path, n, f"{field}[{i}].role", f"expected user, assistant or system, got {role!r}")
    if not users or not assistants:
        raise FormatError(path, n, field, "needs at least one user and one assistant message")
    return "\n\n".join(users), "\n\n".join(assistants)


def registry() -> dict[str, Callable[[Path, Numbered], Numbered]]:
    """Converter of each foreign format by name (detection order)."""
    return {m.NAME: m.convert for m in _modules()}


def detect(rec: dict[str, Any]) -> str | None:
    """The foreign format whose shape ``rec`` has, else None (an AlpacaEval or Tiebreak record)."""
    if "output_1" in rec or ("output" in rec and "generator" in rec):
        return None
    return next((m.NAME for m in _modules() if m.matches(rec)), None)


def _modules() -> list[Any]:
    from tiebreak.core.formats import arena, argilla, hf_jsonl, labelstudio, mtbench

    return [mtbench, arena, labelstudio, argilla, hf_jsonl]


def names() -> tuple[str, ...]:
    """Names accepted by ``--format`` for the foreign formats."""
    return ("arena", "mt-bench", "label-studio", "argilla", "hf-preference")
