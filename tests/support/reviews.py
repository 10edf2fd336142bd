"""A seeded stand-in reviewer on the bundled sample (dashboard and agreement tests)."""

from __future__ import annotations

import numpy as np

from tiebreak.core.domain import Choice
from tiebreak.core.review.session import ReviewSession

JUDGE = "weighted_alpaca_eval_gpt4_turbo"


def simulate_reviews(store, n, seed=0):
    """A seeded stand-in reviewer: follows the judge's side 75% of the time, else answers at random."""
    rng = np.random.default_rng(seed)
    session = ReviewSession.open_review(store, "sim-reviewer", JUDGE)
    for _ in range(n):
        shown = session.current()
        if shown is None:
            break
        f = session.verdicts[shown.pair.comparison_id]["f"]
        model_wins = f > 0.5 if rng.random() < 0.75 else rng.random() < 0.5
        model_left = shown.swapped
        choice = Choice.TIE_GOOD if rng.random() < 0.08 else (
            Choice.LEFT if model_wins == model_left else Choice.RIGHT)
        blind = session.record(choice)
        session.accept(session.reveal(blind))
    return session
