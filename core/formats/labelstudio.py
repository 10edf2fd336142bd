"""Label Studio JSON exports of pairwise tasks (the Pairwise tag, or a Choices tie question).

Export shape: a list of tasks ``{"id", "data": {...}, "annotations": [{"completed_by",
"result": [{"type": "pairwise", "value": {"selected": "left"|"right"}}, ...], "lead_time",
"was_cancelled"}]}``. The prompt is data ``prompt`` (or instruction / question / text), the
two answers ``answer1`` / ``answer2`` (or response1/2, output_1/2, left/right); generators
from data ``model1`` / ``model2`` (or generator_1/2, model_a/b), else ``--generator-1`` /
``--generator-2``, else the field names. left = output_1 (preference 1), right = 2, a Choices
answer "tie" (or "both good", "both bad", "equal") = 1.5. Each labeller is a member
(``completed_by``) of the human group ``labelstudio`` (or ``--annotator``); ``lead_time``
is the seconds spent. Cancelled (skipped) annotations are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import FormatError
from tiebreak.core.formats.foreign import Numbered, pick, text_of

NAME = "label-studio"
GROUP = "labelstudio_humans"
PROMPTS = ("prompt", "instruction", "question", "text")
ANSWERS = (("answer1", "answer2"), ("response1", "response2"), ("output_1", "output_2"),
           ("left", "right"), ("answer_a", "answer_b"))  # fmt: skip
MODELS = (("model1", "model2"), ("generator_1", "generator_2"), ("model_a", "model_b"))
CHOICES = {"left": 1.0, "a": 1.0, "answer1": 1.0, "1": 1.0, "right": 2.0, "b": 2.0, "answer2": 2.0,
           "2": 2.0, "tie": 1.5, "both good": 1.5, "both bad": 1.5, "equal": 1.5}  # fmt: skip


def matches(rec: dict[str, Any]) -> bool:
    """True for a Label Studio task with annotations."""
    return isinstance(rec.get("data"), dict) and "annotations" in rec


def convert(path: Path, records: Numbered) -> Numbered:
    """Tasks -> one AlpacaEval-shaped record per (task, non-cancelled annotation)."""
    out: Numbered = []
    for n, task in records:
        base = _texts(path, n, task)
        annotations = task["annotations"]
        if not isinstance(annotations, list):
            raise FormatError(path, n, "annotations", "expected a list")
        for i, ann in enumerate(annotations):
            if not isinstance(ann, dict):
                raise FormatError(path, n, f"annotations[{i}]", "expected an object")
            if ann.get("was_cancelled"):
                continue
            out.append((n, base | _label(path, n, i, ann)))
    if not out:
        raise FormatError(path, 1, "annotations", "no task has a (non-cancelled) annotation")
    return out


def _texts(path: Path, n: int, task: dict[str, Any]) -> dict[str, Any]:
    data = task["data"]
    prompt = pick(data, PROMPTS)
    if prompt is None:
        raise FormatError(path, n, "data.prompt", f"missing (looked for {', '.join(PROMPTS)})")
    pair = next((p for p in ANSWERS if p[0] in data and p[1] in data), None)
    if pair is None:
        raise FormatError(path, n, "data.answer1", "missing: no pair of answers (answer1/answer2, "
                          "response1/response2, output_1/output_2, left/right)")  # fmt: skip
    models = next((m for m in MODELS if data.get(m[0]) and data.get(m[1])), None)
    g1 = data[models[0]] if models else task.get("generator_1") or pair[0]
    g2 = data[models[1]] if models else task.get("generator_2") or pair[1]
    return {"instruction": text_of(path, n, f"data.{prompt}", data[prompt]),
            "output_1": text_of(path, n, f"data.{pair[0]}", data[pair[0]]),
            "output_2": text_of(path, n, f"data.{pair[1]}", data[pair[1]]),
            "generator_1": g1, "generator_2": g2, "annotator": task.get("annotator") or GROUP,
            "annotator_kind": "human", "labelstudio_task": task.get("id")}  # fmt: skip


def _label(path: Path, n: int, i: int, ann: dict[str, Any]) -> dict[str, Any]:
    where = f"annotations[{i}].result"
    preference = None
    for result in ann.get("result") or []:
        value = (result.get("value") or {}) if isinstance(result, dict) else {}
        if "selected" in value:
            preference = CHOICES.get(str(value["selected"]).lower())
            if preference is None:
                raise FormatError(path, n, f"{where}.value.selected", f"expected left or right, got {value['selected']!r}")
        elif isinstance(value.get("choices"), list) and len(value["choices"]) == 1:
            preference = CHOICES.get(str(value["choices"][0]).strip().lower(), preference)
    if preference is None:
        raise FormatError(path, n, where, "no pairwise choice (value.selected) or tie choice")
    who = ann.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    seconds = ann.get("lead_time")
    return {"preference": preference, "annotator_index": None if who is None else str(who),
            "time_per_example": seconds if isinstance(seconds, int | float) else None}  # fmt: skip
