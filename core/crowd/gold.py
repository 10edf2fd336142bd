"""Gold items of a round: known-answer pairs from a file, and per-worker gold / self-consistency scores."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.round import RoundError, item_key
from tiebreak.core.domain import Choice, canonical_preference, normalize_preference

__all__ = ["GoldPair", "PREFERENCE", "read_gold", "add_gold", "wilson", "category", "check_scores", "preference_of"]

_REQUIRED = ("instruction", "output_1", "output_2", "preference")


@dataclass(frozen=True)
class GoldPair:
    """A known-answer pair: texts, generator names and the expected preference (1, 1.5 or 2)."""

    instruction: str
    output_1: str
    output_2: str
    generator_1: str
    generator_2: str
    expected: float
    dataset: str | None = None


def _records(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return list(json.loads(text))
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def read_gold(path: str | Path) -> list[GoldPair]:
    """Known-answer pairs from a JSON list or JSONL file.

    Each record needs ``instruction``, ``output_1``, ``output_2`` and ``preference`` (the expected
    answer, AlpacaEval coding: 1 = output_1 better, 2 = output_2 better, 1.5 or 0 = tie);
    ``generator_1`` / ``generator_2`` default to ``gold_1`` / ``gold_2``.

    Raises
    ------
    RoundError
        Unreadable file, bad JSON, or a record without a field / with a bad preference
        (the message names the file and the record number).
    """
    p = Path(path)
    try:
        records = _records(p)
    except OSError as exc:
        raise RoundError(f"--gold {p}: cannot read: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise RoundError(f"--gold {p}: not JSON or JSONL: {exc}") from exc
    out = []
    for n, rec in enumerate(records, 1):
        if not isinstance(rec, dict):
            raise RoundError(f"--gold {p}: record {n} is not an object")
        missing = [k for k in _REQUIRED if rec.get(k) is None]
        if missing:
            raise RoundError(f"--gold {p}: record {n} lacks {', '.join(missing)}")
        try:
            expected = normalize_preference(rec["preference"])
        except (TypeError, ValueError):
            expected = None
        if expected not in (1.0, 1.5, 2.0):
            raise RoundError(f"--gold {p}: record {n}: preference must be 1, 1.5 (or 0) or 2, got {rec['preference']!r}")
        out.append(GoldPair(str(rec["instruction"]), str(rec["output_1"]), str(rec["output_2"]),
                            str(rec.get("generator_1") or "gold_1"), str(rec.get("generator_2") or "gold_2"),
                            float(expected), rec.get("dataset")))  # fmt: skip
    if not out:
        raise RoundError(f"--gold {p}: no record")
    return out


def add_gold(tx: Any, gold: list[GoldPair]) -> list[tuple[int, str, float]]:
    """Store the gold pairs as comparisons (once) and return (comparison_id, item_key, expected)."""
    out = []
    for g in gold:
        ins = tx.instruction_id(g.instruction, g.dataset)
        o1, o2 = tx.output_id(ins, g.generator_1, g.output_1), tx.output_id(ins, g.generator_2, g.output_2)
        out.append((tx.comparison_id(ins, o1, o2), item_key(g.instruction, g.output_1, g.output_2), g.expected))
    return out


#: (shown choice, swapped) -> canonical preference for every answer a label event can carry.
PREFERENCE = {(c.value, sw): canonical_preference(c, sw) for c in Choice if c is not Choice.SKIP for sw in (False, True)}


def preference_of(choice: str | None, swapped: object) -> float | None:
    """Canonical preference of a label event (``canonical_preference`` by table lookup; None if unknown)."""
    return PREFERENCE.get((choice, bool(swapped)))  # type: ignore[arg-type]


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a proportion k / n (NaN, NaN when n = 0)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def category(preference: float | None) -> int | None:
    """0 = output_1, 1 = tie, 2 = output_2; None for no preference (can't judge)."""
    if preference is None:
        return None
    return 0 if preference < 1.5 else (2 if preference > 1.5 else 1)


def check_scores(labels: dict[tuple[int, str], dict[str, Any]], items: dict[str, dict[str, Any]]) -> dict[int, dict[str, int]]:
    """Per annotator id: gold answered / correct and swapped repeats answered / consistent.

    Parameters
    ----------
    labels : dict
        (annotator_id, item_key) -> the live label event (``choice``, ``swapped``).
    items : dict
        item_key -> round item (``kind``, ``expected``, ``source_key`` for repeats).

    Gold counts known-answer pairs and identical-output checks (expected tie); a can't-judge
    answer counts as answered and wrong. A repeat is consistent when its answer, mapped back to
    the original orientation (p := 3 - p), has the same category as the worker's original answer.
    """
    out: dict[int, dict[str, int]] = {}
    for (worker, key), ev in labels.items():
        item = items.get(key)
        if item is None:
            continue
        s = out.setdefault(worker, {"gold_n": 0, "gold_ok": 0, "repeat_n": 0, "repeat_ok": 0})
        p = preference_of(ev["choice"], ev["swapped"])
        if item["kind"] in ("gold", "identical"):
            s["gold_n"] += 1
            s["gold_ok"] += int(category(p) == category(item["expected"]))
        elif item["kind"] == "repeat":
            original = labels.get((worker, item["source_key"]))
            if original is None:
                continue
            first = preference_of(original["choice"], original["swapped"])
            s["repeat_n"] += 1
            s["repeat_ok"] += int(p is not None and category(3 - p) == category(first))
    return out
