"""Review use cases: a blind decision on an audit item, then the judge's verdict, then accept / override.

Both decisions are stored: the blind one as an annotation (source 'review', judge not visible)
and the post-reveal action in ``review_actions`` (the judge verdict shown at reveal, accept or
override, the final verdict and the reason). The session is the review state machine of
:mod:`tiebreak.core.review.machine`; undo walks back through its states and nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, cast

from tiebreak.core.domain import Choice, canonical_preference
from tiebreak.core.labelling.queue import LabelQueue
from tiebreak.core.labelling.session import Change, LabellingSession, SessionError, Shown
from tiebreak.core.review import sql as rs
from tiebreak.core.review.audit import default_audit_group
from tiebreak.core.review.machine import Reveal, ReviewState, ReviewStep, verdict_text
from tiebreak.core.review.queue import judge_verdicts
from tiebreak.core.review.sql import REASONS
from tiebreak.core.store import Store

__all__ = ["REASONS", "Reveal", "ReviewError", "ReviewSession", "ReviewState", "ReviewStep", "add_adhoc_items"]


class ReviewError(SessionError):
    """A review operation is impossible (no judge verdict, unknown reason, wrong state)."""


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
    """A labelling session over an audit stream run as a state machine (see :mod:`.machine`).

    ``record`` (blind -> revealed) stores the blind vote and the reveal in one transaction and keeps
    the item on screen; ``accept`` / ``override`` (revealed -> decided) store the action and move
    on; ``undo`` walks back (decided -> revealed -> blind), ``redo`` forward. Every operation is one
    transaction that changes nothing when it fails.
    """

    def __init__(self, store: Store, annotator_id: int, queue: LabelQueue, *, judge: str,
                 audit_group: str, stream: str, verdicts: dict[int, dict[str, Any]],
                 sample_ids: dict[int, int], **kwargs: Any) -> None:  # fmt: skip
        kwargs.setdefault("extra", {"audit_group": audit_group, "stream": stream})
        super().__init__(store, annotator_id, queue, source="review", **kwargs)
        self.judge, self.audit_group, self.stream = judge, audit_group, stream
        self.verdicts, self.sample_ids = verdicts, sample_ids
        self.reveals: dict[int, Reveal] = {}  # blind annotation id -> reveal (live ones)
        self.pending: Reveal | None = None  # the revealed item awaiting accept / override
        self._undone: dict[int, Reveal] = {}  # reveals of undone blind decisions (for redo)
        self._resume: list[dict[str, Any]] = []  # stored reveals without an action (resumed first)

    @classmethod
    def open_review(cls, store: Store, reviewer: str, judge: str, *, audit_group: str | None = None,
                    stream: str = "random", group: str = "reviewers", seed: int = 0) -> ReviewSession:  # fmt: skip
        """Resume ``reviewer``'s review of an audit stream.

        Items without a live review are queued; the reviewer's own items that were voted and
        revealed but never accepted or overridden come back first, revealed.
        """
        if stream not in ("random", "adhoc"):
            raise ReviewError(f"review: stream must be 'random' or 'adhoc' (got {stream!r})")
        audit_group = audit_group or default_audit_group(judge)
        samples = rs.samples(store, audit_group, stream)
        if samples.empty:
            raise ReviewError(f"review: the {stream} stream of {audit_group!r} has no items "
                              "(draw an audit sample: Review tab ▸ Draw audit sample, or `tiebreak spotcheck sample`; "
                              "or add items ad hoc)")
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
        session = cls(store, annotator_id, queue, judge=judge, audit_group=audit_group, stream=stream,
                      verdicts=verdicts, sample_ids=sample_ids, session_id=session_id, group=actual_group)
        session._resume = rs.undecided_reviews(store, annotator_id, list(sample_ids.values()))
        return session

    # -- the state ---------------------------------------------------------------------------
    def step(self) -> ReviewStep:
        """Where the review is: the item on screen and, once voted, what was revealed."""
        shown = self.current()
        if self.pending is not None:
            return ReviewStep(ReviewState.REVEALED, shown, self.pending)
        return ReviewStep(ReviewState.BLIND, shown)

    @property
    def state(self) -> ReviewState:
        """The state of the item on screen (DECIDED items are gone: the next one is blind)."""
        return self.step().state

    def current(self) -> Shown | None:
        """The item on screen: the revealed one while it awaits a decision, else the queue's next.

        Reading never writes: the audit sample's ``shown_at`` (the time the item was first shown)
        is stored with the blind vote or the skip, in the same transaction.
        """
        if self.pending is None and self._resume:
            self._resume_next()
        if self.pending is not None:
            return self.pending.shown
        return super().current()

    def _resume_next(self) -> None:
        """Bring back a stored reveal without an action (e.g. the app closed on a revealed item)."""
        row = self._resume.pop(0)
        cid = int(row["comparison_id"])
        item = self.queue.current()
        position, total = (item.position, item.total) if item else (self.queue.total, self.queue.total)
        shown = Shown(self.store.pair(cid), bool(row["swapped"]), position, total)
        choice = Choice(row["raw_choice"])
        blind = Change("record", shown, choice, row["preference"], int(row["annotation_id"]), row["seconds"])
        self.pending = self._make_reveal(int(row["review_id"]), shown, blind)
        self.reveals[blind.row_id] = self.pending

    def _verdict(self, shown: Shown) -> dict[str, Any]:
        verdict = self.verdicts.get(shown.pair.comparison_id)
        if verdict is None:
            raise ReviewError(f"review: judge {self.judge!r} has no verdict on comparison "
                              f"{shown.pair.comparison_id}")
        return verdict

    def _make_reveal(self, review_id: int, shown: Shown, blind: Change) -> Reveal:
        verdict = self._verdict(shown)
        f = float(verdict["f"])
        return Reveal(review_id, shown, blind, self.judge, 1 + f, abs(2 * f - 1), _shown_choice(1 + f, shown.swapped),
                      verdict_text(verdict.get("rationale")), verdict_text(verdict.get("raw_completion")))  # fmt: skip

    def _need(self, state: ReviewState, what: str) -> None:
        if self.state is not state:
            hint = {ReviewState.BLIND: "vote first: the judge's verdict is revealed after your own vote",
                    ReviewState.REVEALED: "decide the revealed item first: accept (A) or override (X)"}
            raise ReviewError(f"{what}: {hint[self.state]}")

    # -- blind -> revealed -------------------------------------------------------------------
    def record(self, choice: Choice | str, rationale: str | None = None, **kwargs: Any) -> Change:
        """Store the blind decision and the reveal together (one transaction) and hold the item.

        A busy database raises ``DatabaseBusy`` with nothing stored and the item still blind; a
        retry keeps the seconds measured at the first try.
        """
        self._need(ReviewState.BLIND, "vote")
        shown = self._require()
        f = float(self._verdict(shown)["f"])
        kwargs["judge_visible"] = False
        change: Change | None = None
        measured = self.measure(shown)  # kept for a retry when the database is busy
        try:
            with self.store.transaction() as tx:
                rs.mark_shown(tx, self.sample_ids[shown.pair.comparison_id], self._shown_at)
                change = super().record(choice, rationale, **kwargs)
                review_id = rs.record_reveal(
                    tx, comparison_id=shown.pair.comparison_id, annotator_id=self.annotator_id,
                    blind_annotation_id=change.row_id, judge_group=self.judge, judge_preference=1 + f,
                    judge_confidence=abs(2 * f - 1), sample_id=self.sample_ids[shown.pair.comparison_id],
                    session_id=self.session_id,
                )  # fmt: skip
        except BaseException:
            if change is not None:  # rolled back: put the queue and the figures back too
                self.queue.reopen(shown.pair.comparison_id)
                self._apply(replace(change, undone=True))
            self._attempt = (shown.pair.comparison_id, *measured)
            raise
        self.pending = self._make_reveal(review_id, shown, change)
        self.reveals[change.row_id] = self.pending
        return change

    def skip(self) -> Change:
        """Defer the item (only while blind)."""
        self._need(ReviewState.BLIND, "skip")
        shown = self._require()
        with self.store.transaction() as tx:
            rs.mark_shown(tx, self.sample_ids[shown.pair.comparison_id], self._shown_at)
            return super().skip()

    def reveal(self, change: Change) -> Reveal:
        """The reveal stored for a blind decision of this session."""
        try:
            return self.reveals[change.row_id]
        except KeyError:
            raise ReviewError(f"review: decision {change.row_id} was not revealed in this session") from None

    # -- revealed -> decided -----------------------------------------------------------------
    def accept(self, reveal: Reveal | None = None, reason: str | None = None,
               reason_text: str | None = None) -> Change:  # fmt: skip
        """Accept the judge's verdict (the final verdict is the judge's); returns the decision."""
        reveal = self._pending(reveal)
        return self._act(reveal, "accept", reveal.judge_preference, reveal.judge_choice, reason, reason_text)

    def override(self, reveal: Reveal | None, choice: Choice | str, reason: str | None = None,
                 reason_text: str | None = None) -> Change:  # fmt: skip
        """Override the judge with ``choice`` (in the shown orientation); returns the decision."""
        reveal = self._pending(reveal)
        choice = Choice(choice)
        preference = canonical_preference(choice, reveal.shown.swapped)
        if preference is None:
            raise ReviewError(f"override: {choice.value!r} is not a verdict")
        return self._act(reveal, "override", preference, choice, reason, reason_text)

    def _pending(self, reveal: Reveal | None) -> Reveal:
        self._need(ReviewState.REVEALED, "decide")
        assert self.pending is not None
        if reveal is not None and reveal.blind.row_id != self.pending.blind.row_id:
            raise ReviewError(f"decide: decision {reveal.blind.row_id} is not the revealed item")
        return self.pending

    def _act(self, reveal: Reveal, action: str, preference: float, choice: Choice,
             reason: str | None, reason_text: str | None) -> Change:  # fmt: skip
        if reason is not None and reason not in REASONS:
            raise ReviewError(f"review: unknown reason {reason!r} (choose from {', '.join(REASONS)})")
        if reason == "custom" and not (reason_text or "").strip():
            raise ReviewError("review: the custom reason needs a text")
        extra = {"action": action, "reason": reason, "reason_text": reason_text or None}
        with self.store.transaction() as tx:
            rs.record_action(tx, reveal.review_id, action=action, final_preference=preference,
                             final_choice=choice.value, reason=reason, reason_text=reason_text or None)
        self.pending = None
        return Change("decide", reveal.shown, choice, preference, reveal.review_id, extra=extra)

    def action_of(self, reveal: Reveal) -> str | None:
        """The post-reveal action stored for ``reveal`` ('accept' / 'override'), None if none yet."""
        return rs.review_action(self.store, reveal.review_id)

    # -- undo / redo -------------------------------------------------------------------------
    def undo(self, change: Change) -> Change:
        """Step back: a decision returns to revealed; a blind vote (and its review) to blind."""
        if change.kind == "decide":
            return self._undo_decide(change)
        if change.kind != "record":
            return super().undo(change)
        if self.pending is not None and self.pending.blind.row_id != change.row_id:
            raise ReviewError("undo: decide the revealed item first (accept or override)")
        reveal = self.reveals.get(change.row_id)
        with self.store.transaction() as tx:
            undone = super().undo(change)
            if reveal is not None:
                rs.retract_action(tx, reveal.review_id)
        if reveal is not None:
            del self.reveals[change.row_id]
            self._undone[change.row_id] = reveal
        self.pending = None
        return undone

    def _undo_decide(self, change: Change) -> Change:
        if change.undone:
            raise ReviewError("undo: this decision is already undone")
        self._need(ReviewState.BLIND, "undo")  # the item decided last is the one to reopen
        reveal = next((r for r in self.reveals.values() if r.review_id == change.row_id), None)
        if reveal is None:
            raise ReviewError(f"undo: review {change.row_id} was not decided in this session")
        with self.store.transaction() as tx:
            new_id = rs.reopen_review(tx, change.row_id)
        self.pending = self.reveals[reveal.blind.row_id] = replace(reveal, review_id=new_id)
        return replace(change, undone=True, row_id=new_id)

    def redo(self, change: Change) -> Change:
        """Step forward again: a decision is stored again, a blind vote restored with its review."""
        if change.kind == "decide":
            if not change.undone or self.pending is None or self.pending.review_id != change.row_id:
                raise ReviewError("redo: that decision is not the revealed item's")
            if change.choice is None or change.preference is None:
                raise ReviewError("redo: the decision has no verdict")
            return self._act(self.pending, str(change.extra["action"]), change.preference, change.choice,
                             change.extra.get("reason"), change.extra.get("reason_text"))
        if change.kind != "record":
            return super().redo(change)
        self._need(ReviewState.BLIND, "redo")
        reveal = self._undone.get(change.row_id)
        if reveal is None:
            raise ReviewError(f"redo: decision {change.row_id} was not undone in this review session")
        with self.store.transaction() as tx:
            rs.restore_action(tx, reveal.review_id)  # first: refuses if reviewed again
            redone = super().redo(change)
        del self._undone[change.row_id]
        self.reveals[change.row_id] = reveal
        if self.action_of(reveal) is None:
            self.pending = reveal  # revealed again, awaiting the decision
        return redone
