"""MT-Bench pairwise judgments (FastChat ``llm_judge`` ``model_judgment/*_pair.jsonl``).

One record holds two games of a judge on (model_1, model_2): g1 shows model_1 as Assistant A,
g2 shows the outputs swapped; ``g1_winner`` / ``g2_winner`` are already in model terms
("model_1", "model_2", "tie", "error"). Each game becomes one annotation (seed 0 = g1,
seed 1 = g2 with ``swapped``), the judge's text its raw completion. The question and the
answers are read back from ``g1_user_prompt`` (single-turn and multi-turn pair templates).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import FormatError
from tiebreak.core.formats.foreign import Numbered, text_of

NAME = "mt-bench"
WINNERS = {"model_1": 1.0, "model_2": 2.0, "tie": 1.5, "error": None, "inconsistent": None}
_SINGLE = re.compile(
    r"\[User Question\]\n(?P<q>.*?)\n\n(?:\[The Start of Reference Answer\].*?\[The End of Reference Answer\]\n\n)?"
    r"\[The Start of Assistant A's Answer\]\n(?P<a>.*?)\n\[The End of Assistant A's Answer\]\n\n"
    r"\[The Start of Assistant B's Answer\]\n(?P<b>.*?)\n\[The End of Assistant B's Answer\]",
    re.DOTALL,
)
_CONV = re.compile(
    r"<\|The Start of Assistant (?P<who>[AB])'s Conversation with User\|>\n\n(?P<body>.*?)"
    r"\n\n<\|The End of Assistant (?P=who)'s Conversation with User\|>",
    re.DOTALL,
)
_TURN = re.compile(r"### User:\n(?P<q>.*?)\n\n### Assistant [AB]:\n(?P<a>.*?)(?=\n\n### User:\n|\Z)", re.DOTALL)


def matches(rec: dict[str, Any]) -> bool:
    """True for an MT-Bench pairwise judgment."""
    return {"model_1", "model_2", "g1_winner"} <= set(rec)


def convert(path: Path, records: Numbered) -> Numbered:
    """Judgments -> two annotation records each (g1 and g2)."""
    out: Numbered = []
    for n, rec in records:
        out.extend((n, game) for game in _games(path, n, rec))
    return out


def _texts(path: Path, n: int, prompt: str) -> tuple[str, str, str]:
    single = _SINGLE.search(prompt)
    if single:
        return single["q"], single["a"], single["b"]
    convs = {m["who"]: [(t["q"], t["a"]) for t in _TURN.finditer(m["body"])] for m in _CONV.finditer(prompt)}
    if set(convs) == {"A", "B"} and convs["A"] and len(convs["A"]) == len(convs["B"]):
        question = "\n\n".join(q for q, _ in convs["A"])
        return question, "\n\n".join(a for _, a in convs["A"]), "\n\n".join(a for _, a in convs["B"])
    raise FormatError(path, n, "g1_user_prompt", "not FastChat's pair template (cannot find the "
                      "question and the two answers)")  # fmt: skip


def _games(path: Path, n: int, rec: dict[str, Any]) -> list[dict[str, Any]]:
    prompt = text_of(path, n, "g1_user_prompt", rec.get("g1_user_prompt"))
    question, answer_1, answer_2 = _texts(path, n, prompt)
    judge = rec.get("judge")
    name = "_".join(map(str, judge)) if isinstance(judge, list) else judge
    if not isinstance(name, str) or not name:
        raise FormatError(path, n, "judge", f"expected the judge's name (e.g. [\"gpt-4\", \"pair-v2\"]), got {judge!r}")
    base = {"instruction": question, "output_1": answer_1, "output_2": answer_2,
            "generator_1": text_of(path, n, "model_1", rec.get("model_1")),
            "generator_2": text_of(path, n, "model_2", rec.get("model_2")),
            "annotator": rec.get("annotator") or name, "annotator_kind": "judge"}  # fmt: skip
    for key in ("question_id", "turn", "tstamp"):
        if rec.get(key) is not None:
            base[f"mtbench_{key}"] = rec[key]
    games = []
    for seed, game in enumerate(("g1", "g2")):
        winner = rec.get(f"{game}_winner")
        if game == "g2" and winner is None and f"{game}_judgment" not in rec:
            continue  # a one-game record
        if winner not in WINNERS:
            raise FormatError(path, n, f"{game}_winner", f"expected one of {', '.join(WINNERS)}, got {winner!r}")
        games.append(base | {"annotator_index": seed, "swapped": seed == 1, "preference": WINNERS[winner],
                             "raw_completion": rec.get(f"{game}_judgment")})  # fmt: skip
    return games
