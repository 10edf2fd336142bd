"""Hugging Face ``datasets``-style preference rows (``prompt``, ``chosen``, ``rejected``).

The layout of preference datasets on the Hub (Anthropic HH, UltraFeedback binarized, DPO
training sets), as ``Dataset.to_json`` writes it (JSON lines) or as Parquet. ``chosen`` /
``rejected`` are strings or OpenAI-style message lists (then the prompt may be omitted: it is
the user turns). The chosen response becomes output_1, so every row has preference 1; the
generators are ``chosen_model`` / ``rejected_model`` when present, else the names given with
``--generator-1`` / ``--generator-2``, else "chosen" / "rejected".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import FormatError
from tiebreak.core.formats.foreign import Numbered, conversation, text_of

NAME = "hf-preference"
#: Default annotator group when the file and the options say nothing.
GROUP = "hf_preference"


def matches(rec: dict[str, Any]) -> bool:
    """True for a chosen/rejected preference row."""
    return {"chosen", "rejected"} <= set(rec)


def convert(path: Path, records: Numbered) -> Numbered:
    """Preference rows -> AlpacaEval-shaped annotation records (output_1 = chosen)."""
    return [(n, _row(path, n, rec)) for n, rec in records]


def _side(path: Path, n: int, rec: dict[str, Any], field: str) -> tuple[str | None, str]:
    value = rec.get(field)
    if isinstance(value, list):
        return conversation(path, n, field, value)
    return None, text_of(path, n, field, value)


def _row(path: Path, n: int, rec: dict[str, Any]) -> dict[str, Any]:
    q_chosen, chosen = _side(path, n, rec, "chosen")
    q_rejected, rejected = _side(path, n, rec, "rejected")
    prompt = rec.get("prompt", rec.get("instruction"))
    if prompt is None:
        prompt = q_chosen
        if prompt is None:
            raise FormatError(path, n, "prompt", "missing (and chosen is plain text, so it has no user turn)")
        if q_rejected is not None and q_rejected != prompt:
            raise FormatError(path, n, "rejected", "its user turns differ from chosen's")
    prompt = text_of(path, n, "prompt", prompt)
    out: dict[str, Any] = {
        "instruction": prompt, "output_1": chosen, "output_2": rejected,
        "generator_1": rec.get("chosen_model") or rec.get("generator_1") or "chosen",
        "generator_2": rec.get("rejected_model") or rec.get("generator_2") or "rejected",
        "annotator": rec.get("annotator") or GROUP, "preference": 1.0,
    }  # fmt: skip
    for key in ("prompt_id", "score_chosen", "score_rejected", "source"):
        if rec.get(key) is not None:
            out[f"hf_{key}"] = rec[key]
    return out
