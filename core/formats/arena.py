"""Chatbot Arena / FastChat battles (``model_a``, ``model_b``, ``winner``) to and from annotations.

Shape of lmsys/chatbot_arena_conversations and lmsys/mt_bench_human_judgments: one battle per
record with ``conversation_a`` / ``conversation_b`` (OpenAI-style messages), ``judge`` (the
voter), ``turn``, ``question_id``. model_a becomes output_1 (generator_1), so a leaderboard
panel is "model_b against model_a"; winner model_a -> 1, model_b -> 2, tie and
"tie (bothbad)" -> 1.5 (the latter kept in ``arena_winner``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import FormatError
from tiebreak.core.formats.foreign import Numbered, conversation, text_of

NAME = "arena"
WINNERS = {"model_a": 1.0, "model_b": 2.0, "tie": 1.5, "tie (bothbad)": 1.5}
#: Default annotator group (humans voting in the arena) when the file does not say.
GROUP = "arena_humans"


def matches(rec: dict[str, Any]) -> bool:
    """True for an Arena battle."""
    return {"model_a", "model_b", "winner"} <= set(rec)


def convert(path: Path, records: Numbered) -> Numbered:
    """Battles -> AlpacaEval-shaped annotation records (one per battle)."""
    return [(n, _battle(path, n, rec)) for n, rec in records]


def _battle(path: Path, n: int, rec: dict[str, Any]) -> dict[str, Any]:
    winner = rec.get("winner")
    if winner not in WINNERS:
        raise FormatError(path, n, "winner", f"expected one of {', '.join(WINNERS)}, got {winner!r}")
    for side in ("a", "b"):
        if f"conversation_{side}" not in rec:
            raise FormatError(path, n, f"conversation_{side}", "missing (Tiebreak keeps the texts "
                              "compared; export battles with their conversations)")  # fmt: skip
    question_a, answer_a = conversation(path, n, "conversation_a", rec["conversation_a"])
    question_b, answer_b = conversation(path, n, "conversation_b", rec["conversation_b"])
    if question_a != question_b:
        raise FormatError(path, n, "conversation_b", "its user turns differ from conversation_a's")
    judge = rec.get("judge")
    out: dict[str, Any] = {
        "instruction": question_a, "output_1": answer_a, "output_2": answer_b,
        "generator_1": text_of(path, n, "model_a", rec["model_a"]),
        "generator_2": text_of(path, n, "model_b", rec["model_b"]),
        "annotator": rec.get("annotator") or GROUP, "annotator_kind": "human",
        "annotator_index": None if judge is None else str(judge), "preference": WINNERS[winner],
    }  # fmt: skip
    if winner == "tie (bothbad)":
        out["arena_winner"] = winner
    for key in ("question_id", "turn", "language", "tstamp"):
        if rec.get(key) is not None:
            out[f"arena_{key}"] = rec[key]
    return out


def battles(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Annotation records (``exporter.export_records(..., 'cross-annotations')`` rows) as battles.

    Fractional preferences go to the side they lean to; 1.5 is "tie"; unparsed labels are left
    out (a battle always has a winner).
    """
    out = []
    for r in records:
        p = r["preference"]
        if p is None:
            continue
        winner = "model_a" if p < 1.5 else "model_b" if p > 1.5 else "tie"
        out.append({
            "model_a": r["generator_1"], "model_b": r["generator_2"], "winner": winner,
            "judge": str(r["annotator_index"]) if r.get("annotator_index") is not None else r["annotator"],
            "turn": 1, "conversation_a": _messages(r["instruction"], r["output_1"]),
            "conversation_b": _messages(r["instruction"], r["output_2"]),
        })  # fmt: skip
    return out


def _messages(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
