"""Review use cases: a blind decision on an audit item, then the judge's verdict, then accept / override.

Both decisions are stored: the blind one as an annotation (source 'review', judge not visible)
and the post-reveal action in ``review_actions`` (the judge verdict shown at reveal, accept or
override, the final verdict and the reason). Undo retracts both and redo restores both; nothing is
deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from tiebreak.core.domain import Choice, canonical_preference
from tiebreak.core.labelling.queue import LabelQueue
from tiebreak.core.labelling.session import Change, LabellingSession, SessionError, Shown
from tiebreak.core.review import sql as rs
from tiebreak.core.review.audit import default_audit_group
from tiebreak.core.review.queue import judge_verdicts
from tiebreak.core.review.sql import REASONS
from tiebreak.core.store import Store

__all__ = ["REASONS", "Reveal", "ReviewError", "ReviewSession", "add_adhoc_items"]


class ReviewError(SessionError):
    """A review operation is impossible (no judge verdict, unknown reason, nothing revealed)."""


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


def _shown_choice(preference: float, swapped: bool) -> Choice:
    """The side a canonical preference points to on screen."""
    p = 3.0 - preference if swapped else preference  # preference in the shown order
    if p == 1.5:
        return Choice.TIE_GOOD
    return Choice.LEFT if p < 1.5 else Choice.RIGHT


def add_adhoc_items(
    store: Store, judge: str, comparison_ids: Iterable[int], picked_by: str, audit_group: str | None = None
) -> int:
    """Queue items picked by hand or by a filter in the ad-hoc stream; returns how many are queued."""
    group = audit_group or default_audit_group(judge)
    with store.transaction() as tx:
        ids = [rs.add_adhoc(tx, group, judge, int(c), picked_by) for c in comparison_ids]
    return len(set(ids))


class ReviewSession(LabellingSession):
    """A labelling session over an audit stream: every vote is blind, then revealed."""

    def __init__(self, store: Store, annotator_id: int, queue: LabelQueue, *, judge: str,
                 audit_group: str, stream: str, verdicts: dict[int, dict[str, Any]],
                 sample_ids: dict[int, int], **kwargs: Any) -> None:  # fmt: skip
        kwargs.setdefault("extra", {"audit_group": audit_group, "stream": stream})
        super().__init__(store, annotator_id, queue, source="review", **kwargs)
        self.judge, self.audit_group, self.stream = judge, audit_group, stream
        self.verdicts, self.sample_ids = verdicts, sample_ids
        self.reveals: dict[int, Reveal] = {}  # blind annotation id -> reveal
        self._undone: dict[int, Reveal] = {}  # reveals of undone blind decisions (for redo)

    @classmethod
    def open_review(cls, store: Store, reviewer: str, judge: str, *, audit_group: str | None = None,
                    stream: str = "random", group: str = "reviewers", seed: int = 0) -> ReviewSession:  # fmt: skip
        """Resume ``reviewer``'s review of an audit stream (items without a live review)."""
        if stream not in ("random", "adhoc"):
            raise ReviewError(f"review: stream must be 'random' or 'adhoc' (got {stream!r})")
        audit_group = audit_group or default_audit_group(judge)
        samples = rs.samples(store, audit_group, stream)
        if samples.empty:
            raise ReviewError(f"review: the {stream} stream of {audit_group!r} has no items "
                              "(draw with `tiebreak spotcheck sample` or pick items ad hoc)")
        ann = store.annotations_frame(groups=[judge], with_texts=False)
        summary = judge_verdicts(ann[ann["comparison_id"].isin(samples["comparison_id"])])
        records = cast(list[dict[str, Any]], summary.verdicts.to_dict("records"))  # str column names
        verdicts = {int(r["comparison_id"]): r for r in records}
        with store.transaction() as tx:
            # a reviewer's own annotator row (kept apart from the same person's labelling queue)
            annotator_id = tx.annotator_id(f"{reviewer} (review)", "human", group=group, member=reviewer)
            session_id = tx.start_session(annotator_id, "review", {"audit_group": audit_group,
                                                                      "stream": stream, "judge": judge})
        ids = [int(c) for c in samples["comparison_id"]]
        done = [int(c) for c in samples.loc[samples["review_id"].notna(), "comparison_id"]]
        queue = LabelQueue(ids, reviewer, seed, done=done)
        sample_ids = dict(zip(ids, samples["sample_id"].astype(int), strict=True))
        actual_group = store.annotator_row(annotator_id=annotator_id)["group_name"]  # type: ignore[index]
        return cls(store, annotator_id, queue, judge=judge, audit_group=audit_group, stream=stream,
                   verdicts=verdicts, sample_ids=sample_ids, session_id=session_id, group=actual_group)

    def record(self, choice: Choice | str, rationale: str | None = None, **kwargs: Any) -> Change:
        """Store the blind decision, then the reveal (the judge verdict the reviewer now sees)."""
        shown = self._require()
        verdict = self.verdicts.get(shown.pair.comparison_id)
        if verdict is None:
            raise ReviewError(f"review: judge {self.judge!r} has no verdict on comparison "
                              f"{shown.pair.comparison_id}")
        kwargs["judge_visible"] = False
        f = float(verdict["f"])
        # one user action, one unit of work: the blind decision, when its item was first shown
        # and the reveal commit together or not at all (reading the current item writes nothing)
        with self.store.transaction() as tx:
            change = super().record(choice, rationale, **kwargs)
            rs.mark_shown(tx, self.sample_ids[shown.pair.comparison_id], self._shown_at)
            review_id = rs.record_reveal(
                tx, comparison_id=shown.pair.comparison_id, annotator_id=self.annotator_id,
                blind_annotation_id=change.row_id, judge_group=self.judge, judge_preference=1 + f,
                judge_confidence=abs(2 * f - 1), sample_id=self.sample_ids[shown.pair.comparison_id],
                session_id=self.session_id,
            )  # fmt: skip
        self.reveals[change.row_id] = Reveal(
            review_id, shown, change, self.judge, 1 + f, abs(2 * f - 1), _shown_choice(1 + f, shown.swapped),
            verdict.get("rationale"), verdict.get("raw_completion"),
        )  # fmt: skip
        return change

    def reveal(self, change: Change) -> Reveal:
        """The reveal stored for a blind decision."""
        try:
            return self.reveals[change.row_id]
        except KeyError:
            raise ReviewError(f"review: decision {change.row_id} was not revealed in this session") from None

    def accept(self, reveal: Reveal, reason: str | None = None, reason_text: str | None = None) -> None:
        """Accept the judge's verdict (the final verdict is the judge's)."""
        self._act(reveal, "accept", reveal.judge_preference, reveal.judge_choice, reason, reason_text)

    def override(self, reveal: Reveal, choice: Choice | str, reason: str | None = None,
                 reason_text: str | None = None) -> None:  # fmt: skip
        """Override the judge with ``choice`` (in the shown orientation) and an optional reason."""
        choice = Choice(choice)
        preference = canonical_preference(choice, reveal.shown.swapped)
        if preference is None:
            raise ReviewError(f"override: {choice.value!r} is not a verdict")
        self._act(reveal, "override", preference, choice, reason, reason_text)

    def _act(self, reveal, action, preference, choice, reason, reason_text) -> None:
        if reason is not None and reason not in REASONS:
            raise ReviewError(f"review: unknown reason {reason!r} (choose from {', '.join(REASONS)})")
        if reason == "custom" and not (reason_text or "").strip():
            raise ReviewError("review: the custom reason needs a text")
        with self.store.transaction() as tx:
            rs.record_action(tx, reveal.review_id, action=action, final_preference=preference,
                             final_choice=choice.value, reason=reason, reason_text=reason_text or None)

    def action_of(self, reveal: Reveal) -> str | None:
        """The post-reveal action stored for ``reveal`` ('accept' / 'override'), None if none yet."""
        return rs.review_action(self.store, reveal.review_id)

    def undo(self, change: Change) -> Change:
        """Retract the blind decision and its review (both kept, marked retracted)."""
        reveal = self.reveals.get(change.row_id)
        with self.store.transaction() as tx:
            undone = super().undo(change)
            if reveal is not None:
                rs.retract_action(tx, reveal.review_id)
        if reveal is not None:
            del self.reveals[change.row_id]
            self._undone[change.row_id] = reveal
        return undone

    def redo(self, change: Change) -> Change:
        """Restore an undone blind decision and its review (with the post-reveal action, if any)."""
        if change.kind != "record":  # skips and flags: as in labelling
            return super().redo(change)
        reveal = self._undone.get(change.row_id)
        if reveal is None:
            raise ReviewError(f"redo: decision {change.row_id} was not undone in this review session")
        with self.store.transaction() as tx:
            rs.restore_action(tx, reveal.review_id)  # first: refuses if reviewed again
            redone = super().redo(change)
        del self._undone[change.row_id]
        self.reveals[change.row_id] = reveal
        return redone
