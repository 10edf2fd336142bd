"""The review state machine's values: blind -> revealed -> decided, and the judge's text made safe.

A review item is **blind** until the reviewer votes; the vote and the reveal record commit in one
transaction and the item is **revealed** (the judge's verdict on screen, vote keys refused);
accept or override commits the action and the item is **decided** (the next item is blind).
Undo walks back through the same states. The screen only renders a :class:`ReviewStep`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tiebreak.core.domain import Choice
from tiebreak.core.labelling.session import Change, Shown

__all__ = ["MAX_TEXT_CHARS", "Reveal", "ReviewState", "ReviewStep", "judge_text", "verdict_text"]

#: Longest judge text handed to a view; the rest is cut with a note saying how much (never silently).
MAX_TEXT_CHARS = 20_000


class ReviewState(StrEnum):
    """Where the item on screen is in the review."""

    BLIND = "blind"
    REVEALED = "revealed"
    DECIDED = "decided"


def verdict_text(value: Any) -> str | None:
    """One judge text field (rationale or raw completion) as text, or None when there is none.

    Accepts every shape the importers and pandas produce: missing / None, a float NaN (pandas'
    empty cell), an empty or blank string, a string, a dict or list (shown as indented JSON) and
    any other scalar (its ``str``).
    """
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    try:  # numpy NaN and NaT compare unequal to themselves
        if value != value:
            return None
    except (TypeError, ValueError):  # pandas' NA has no truth value: a missing value too
        return None
    return str(value)


def judge_text(rationale: Any, raw_completion: Any, limit: int = MAX_TEXT_CHARS) -> str:
    """What the reveal shows of the judge's reasoning: the rationale, else the raw completion.

    Never fails and never returns a non-string; a text longer than ``limit`` is cut with a note
    giving the number of characters left out.
    """
    text = verdict_text(rationale) or verdict_text(raw_completion)
    if text is None:
        return "(the judge gave no rationale)"
    if len(text) > limit:
        return f"{text[:limit]}\n\n… ({len(text) - limit:,} more characters not shown)"
    return text


@dataclass(frozen=True)
class Reveal:
    """What the reviewer sees after the blind decision: the judge's verdict on this item."""

    review_id: int
    shown: Shown
    blind: Change
    judge: str
    judge_preference: float  # canonical, 1..2 (fractional for soft verdicts)
    confidence: float  # |2 f - 1|
    judge_choice: Choice  # in the shown orientation
    rationale: str | None
    raw_completion: str | None

    @property
    def agrees(self) -> bool:
        """True when the blind decision points the same way as the judge (ties included)."""
        mine = self.blind.preference
        if mine is None:
            return False
        return (mine > 1.5) == (self.judge_preference > 1.5) and (mine == 1.5) == (self.judge_preference == 1.5)

    @property
    def text(self) -> str:
        """The judge's reasoning as shown (see :func:`judge_text`)."""
        return judge_text(self.rationale, self.raw_completion)


@dataclass(frozen=True)
class ReviewStep:
    """The state of the review for the screen: the item, and the reveal once voted."""

    state: ReviewState
    shown: Shown | None
    reveal: Reveal | None = None


def shown_probabilities(reveal: Reveal) -> tuple[float, float]:
    """(P(left better), P(right better)) the judge gave, in the orientation the reviewer saw."""
    right = reveal.judge_preference - 1.0  # canonical: P(output_2 better)
    if reveal.shown.swapped:
        right = 1.0 - right
    return 1.0 - right, right


def rationale_words(reveal: Reveal) -> str:
    """The judge's reasoning in words: its rationale; for a logprob judge the probability it gave
    each side (never the raw JSON); else its raw completion (see :func:`judge_text`)."""
    if verdict_text(reveal.rationale) is not None:
        return reveal.text
    raw = verdict_text(reveal.raw_completion)
    left, right = shown_probabilities(reveal)
    if raw is not None and '"logprob' in raw:
        return (f"A logprob judge: it gave {left:.0%} to the left output and {right:.0%} to the right one "
                "(from the probabilities of its first answer token); it wrote no rationale.")  # fmt: skip
    if raw is None:
        return f"The judge wrote no rationale; it gave {left:.0%} to the left output and {right:.0%} to the right one."
    return reveal.text

