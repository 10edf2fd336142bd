"""Plain values shared by every layer: verdicts, choices and the canonical preference."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class Choice(enum.StrEnum):
    """What a person (or judge) chose, in the order the outputs were *shown*."""

    LEFT = "left"
    RIGHT = "right"
    TIE_GOOD = "tie_good"
    TIE_BAD = "tie_bad"
    SKIP = "skip"
    CANT_JUDGE = "cant_judge"


#: Preference of the output shown first (left) for each terminal choice; None = no preference.
_SHOWN_PREFERENCE = {
    Choice.LEFT: 1.0,
    Choice.RIGHT: 2.0,
    Choice.TIE_GOOD: 1.5,
    Choice.TIE_BAD: 1.5,
    Choice.SKIP: None,
    Choice.CANT_JUDGE: None,
}


def unswap(preference: float | None, swapped: bool) -> float | None:
    """Map a preference expressed in the shown order back to canonical order (p := 3 - p)."""
    if preference is None or (isinstance(preference, float) and math.isnan(preference)):
        return None
    return 3.0 - preference if swapped else float(preference)


def canonical_preference(choice: Choice | str, swapped: bool) -> float | None:
    """Canonical AlpacaEval preference (1 = output_1 wins, 2 = output_2 wins, 1.5 = tie).

    ``swapped`` is True when output_2 (the candidate) was shown on the left. This is the one
    function that turns what was shown into what is stored; every caller goes through it.
    """
    return unswap(_SHOWN_PREFERENCE[Choice(choice)], swapped)


def normalize_preference(value: object) -> float | None:
    """AlpacaEval preference cleaning: legacy 0 -> 1.5, null/NaN -> None, else a float."""
    if value is None:
        return None
    p = float(value)  # type: ignore[arg-type]
    if math.isnan(p):
        return None
    if p == 0:
        return 1.5
    return p


@dataclass(frozen=True)
class Pair:
    """One comparison as shown to a labeller: instruction and two outputs (canonical order)."""

    comparison_id: int
    instruction: str
    output_1: str
    output_2: str
    generator_1: str
    generator_2: str
    dataset: str | None = None
