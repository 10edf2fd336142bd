"""The judge's reasoning in words, in the orientation the reviewer saw (left / right)."""

from __future__ import annotations

from types import SimpleNamespace

from tiebreak.core.domain import Choice
from tiebreak.core.review.machine import Reveal, rationale_words, shown_probabilities

LOGPROBS = '{"logprobs": {"content": [{"token": "m", "logprob": -0.1}]}}'


def _reveal(preference: float, swapped: bool, rationale=None, raw=None) -> Reveal:
    shown = SimpleNamespace(swapped=swapped)
    return Reveal(1, shown, SimpleNamespace(choice=Choice.LEFT, preference=1.0), "j", preference,  # type: ignore[arg-type]
                  abs(2 * (preference - 1) - 1), Choice.RIGHT, rationale, raw)  # fmt: skip


def test_probabilities_follow_the_shown_orientation():
    assert abs(shown_probabilities(_reveal(1.8, swapped=False))[1] - 0.8) < 1e-9
    left, right = shown_probabilities(_reveal(1.8, swapped=True))
    assert abs(left - 0.8) < 1e-9 and abs(right - 0.2) < 1e-9


def test_a_logprob_judge_is_explained_not_dumped():
    text = rationale_words(_reveal(1.75, swapped=False, raw=LOGPROBS))
    assert "25% to the left output and 75% to the right" in text and "{" not in text
    assert "wrote no rationale" in rationale_words(_reveal(1.75, swapped=True))
    assert "75% to the left" in rationale_words(_reveal(1.75, swapped=True))
    assert rationale_words(_reveal(1.75, False, rationale="Output (b) is more accurate.")) == \
        "Output (b) is more accurate."
    assert rationale_words(_reveal(1.75, False, raw="Output (b)")) == "Output (b)"
