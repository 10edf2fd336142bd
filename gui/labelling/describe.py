"""What the labelling keys mean and the one-line account of each Change (the reveal strip)."""

from __future__ import annotations

from tiebreak.core.domain import Choice
from tiebreak.core.labelling.session import Change
from tiebreak.gui.safe_text import display_name

__all__ = ["CHOICE_TEXT", "VOTES", "describe"]

VOTES = {"left": Choice.LEFT, "right": Choice.RIGHT, "tie_good": Choice.TIE_GOOD,
         "tie_bad": Choice.TIE_BAD, "cant_judge": Choice.CANT_JUDGE}  # fmt: skip
CHOICE_TEXT = {Choice.LEFT: "left is better", Choice.RIGHT: "right is better",
               Choice.TIE_GOOD: "tie, both good", Choice.TIE_BAD: "tie, both bad",
               Choice.CANT_JUDGE: "can't judge"}  # fmt: skip


def describe(change: Change, held: bool = False) -> str:
    """One line for the reveal strip: what happened and, after a vote, the model names.

    ``held``: the voted item is still on screen (review: revealed), not the previous one.
    """
    shown = change.shown
    if change.undone and change.kind == "decide":
        return "Undone: the decision is retracted; the judge's verdict is shown again (A accepts, X overrides)."
    if change.undone:
        return f"Undone ({change.kind}): back to item {shown.position} of {shown.total}; nothing was deleted."
    if change.kind == "skip":
        return "Skipped: the item comes back at the end of the queue."
    if change.kind == "decide":
        what = "accepted the judge's verdict" if change.extra.get("action") == "accept" else "overrode the judge"
        return f"Review stored: {what} ({CHOICE_TEXT.get(change.choice, '') if change.choice else ''})."
    if change.kind == "flag":
        return "Flagged for the coordinator (the item stays; Backspace undoes the flag)."
    ref = shown.pair.generator_1

    def name(g: str) -> str:
        return f"{display_name(g)} (reference)" if g == ref else display_name(g)

    secs = "" if change.seconds is None else f" · {change.seconds:.1f} s"
    which = "You chose" if held else "Previous item: you chose"
    return (f"{which} “{CHOICE_TEXT[change.choice]}”. "
            f"Left was {name(shown.left_generator)}; right was {name(shown.right_generator)}{secs}.")  # fmt: skip
