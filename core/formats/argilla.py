"""Argilla exports of pairwise ranking datasets (v2 ``records.to_json`` and v1 Hub exports).

Fields: a prompt (``prompt`` / ``input`` / ``instruction``) and two responses (``response_1`` /
``response_2``, or ``response1`` / ``response2``), top-level (Hub export) or under ``fields``
(v2 ``Record.to_dict``). Responses to the ranking question: v2 ``responses: {question:
[{"value", "user_id", "status"}]}``, or v1 ``question: [{"user_id", "value": {"rank": [...],
"value": [...]}, "status"}]``. A ranking value is a list of ``{"value", "rank"}``, a dict
``{"value": [...], "rank": [...]}``, or a list of option names best first. The response
ranked first wins (equal ranks: 1.5); only ``submitted`` responses count. Each user is a
member of the human group ``argilla`` (or ``--annotator``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import FormatError
from tiebreak.core.formats.foreign import Numbered, pick, text_of

NAME = "argilla"
GROUP = "argilla_humans"
PROMPTS = ("prompt", "input", "instruction", "question")
PAIRS = (("response_1", "response_2"), ("response1", "response2"), ("response_a", "response_b"))


def _fields(rec: dict[str, Any]) -> dict[str, Any]:
    return rec["fields"] if isinstance(rec.get("fields"), dict) else rec


def matches(rec: dict[str, Any]) -> bool:
    """True for an Argilla ranking record."""
    fields = _fields(rec)
    has_pair = any(a in fields and b in fields for a, b in PAIRS)
    return has_pair and ("responses" in rec or "fields" in rec or any(_is_v1_response(v) for v in rec.values()))


def _is_v1_response(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and "user_id" in value[0]


def convert(path: Path, records: Numbered) -> Numbered:
    """Records -> one AlpacaEval-shaped record per submitted ranking response."""
    out: Numbered = []
    for n, rec in records:
        base = _texts(path, n, rec)
        pair = (base.pop("_o1"), base.pop("_o2"))
        for i, resp in _responses(path, n, rec):
            if resp.get("status", "submitted") != "submitted":
                continue
            p = _preference(path, n, f"responses[{i}].value", resp.get("value"), pair)
            out.append((n, base | {"preference": p, "annotator_index": str(resp.get("user_id"))}))
    if not out:
        raise FormatError(path, 1, "responses", "no record has a submitted ranking response")
    return out


def _texts(path: Path, n: int, rec: dict[str, Any]) -> dict[str, Any]:
    fields = _fields(rec)
    prompt = pick(fields, PROMPTS)
    if prompt is None:
        raise FormatError(path, n, "prompt", f"missing (looked for {', '.join(PROMPTS)})")
    pair = next(p for p in PAIRS if p[0] in fields and p[1] in fields)
    raw_meta = rec.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    return {"instruction": text_of(path, n, prompt, fields[prompt]),
            "output_1": text_of(path, n, pair[0], fields[pair[0]]),
            "output_2": text_of(path, n, pair[1], fields[pair[1]]),
            "generator_1": meta.get("model_1") or rec.get("generator_1") or pair[0],
            "generator_2": meta.get("model_2") or rec.get("generator_2") or pair[1],
            "annotator": rec.get("annotator") or GROUP, "annotator_kind": "human",
            "argilla_id": rec.get("id", rec.get("external_id")), "_o1": pair[0], "_o2": pair[1]}  # fmt: skip


def _responses(path: Path, n: int, rec: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    if isinstance(rec.get("responses"), dict):
        found = [r for rs in rec["responses"].values() if isinstance(rs, list) for r in rs]
    else:
        found = [r for v in rec.values() if _is_v1_response(v) for r in v]
    if any(not isinstance(r, dict) for r in found):
        raise FormatError(path, n, "responses", "expected objects with value and user_id")
    return list(enumerate(found))


def _preference(path: Path, n: int, field: str, value: Any, pair: tuple[str, str]) -> float:
    ranks: dict[str, float] = {}
    if isinstance(value, dict) and isinstance(value.get("value"), list) and isinstance(value.get("rank"), list):
        ranks = dict(zip(map(str, value["value"]), value["rank"], strict=False))
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
        ranks = {str(v.get("value")): v.get("rank") for v in value}
    elif isinstance(value, list):
        ranks = {str(v): i for i, v in enumerate(value)}
    r1, r2 = ranks.get(pair[0]), ranks.get(pair[1])
    if not isinstance(r1, int | float) or not isinstance(r2, int | float):
        raise FormatError(path, n, field, f"expected a ranking of {pair[0]} and {pair[1]}, got {value!r:.80}")
    return 1.0 if r1 < r2 else 2.0 if r2 < r1 else 1.5
