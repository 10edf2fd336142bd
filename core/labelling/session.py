"""Labelling use cases: record, skip, flag, undo, redo and the next item, each returning a Change.

The GUI never writes labels itself: a key press becomes one call here, which runs one short
SQLite transaction, updates the queue and the live statistics incrementally, and returns a
:class:`Change` that says what happened (the views refresh from it). Undo retracts, never deletes.
A busy database raises :class:`DatabaseBusy` with the session as it was (retry the call).
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from tiebreak.core.domain import Choice, Pair, canonical_preference
from tiebreak.core.errors import TiebreakError
from tiebreak.core.labelling import sql as q
from tiebreak.core.labelling.queue import LabelQueue
from tiebreak.core.store import DatabaseBusy, Store, utcnow

__all__ = [
    "IDLE_CUTOFF_S", "ActiveClock", "Change", "DatabaseBusy", "LabellingSession", "QueueSpec", "SessionError",
    "SessionFigures", "Shown",
]  # fmt: skip

#: No input for this long stops the active-time clock of an item.
IDLE_CUTOFF_S = 60.0
#: Answers that finish an item (skip defers it instead).
TERMINAL = (Choice.LEFT, Choice.RIGHT, Choice.TIE_GOOD, Choice.TIE_BAD, Choice.CANT_JUDGE)


class SessionError(TiebreakError, RuntimeError):
    """A labelling operation is impossible in the current state (e.g. the queue is empty)."""


class StatsSink(Protocol):
    """What the session needs from live statistics (``tiebreak.core.labelling.live.LiveStats`` fits)."""

    def add(self, row: Mapping[str, Any]) -> None: ...  # noqa: D102
    def retract(self, row: Mapping[str, Any]) -> None: ...  # noqa: D102


class ActiveClock:
    """Active seconds on one item: each gap between inputs counts at most ``idle_cutoff`` seconds.

    The clock starts when the item is shown (:meth:`restart`); every input calls :meth:`touch`.
    A pause longer than the cut-off contributes only the cut-off (the clock ran until it noticed
    the idleness, then stopped) and the clock resumes at the next input.
    """

    def __init__(self, idle_cutoff: float = IDLE_CUTOFF_S, now: Callable[[], float] = time.monotonic):
        if idle_cutoff <= 0:
            raise ValueError(f"ActiveClock: idle_cutoff must be positive, got {idle_cutoff!r}")
        self.idle_cutoff = float(idle_cutoff)
        self._now = now
        self.restart()

    def restart(self) -> None:
        """Start counting from zero (a new item is shown)."""
        self._last = self._now()
        self._active = 0.0

    def touch(self) -> None:
        """Register an input event (key, mouse, scroll)."""
        t = self._now()
        self._active += min(max(t - self._last, 0.0), self.idle_cutoff)
        self._last = t

    def seconds(self) -> float:
        """Active seconds so far, the time since the last input included (capped)."""
        return self._active + min(max(self._now() - self._last, 0.0), self.idle_cutoff)


@dataclass(frozen=True)
class QueueSpec:
    """What a labeller chose at the start: identity, reference, candidates, dataset, seed."""

    annotator: str
    reference: str
    candidates: tuple[str, ...]
    dataset: str | None = None
    seed: int = 0
    group: str = "humans"

    def __post_init__(self) -> None:
        if not self.annotator.strip():
            raise SessionError("start: the annotator name is empty")
        if not self.candidates:
            raise SessionError("start: choose at least one candidate model")


@dataclass(frozen=True)
class Shown:
    """The item on screen: the pair, its orientation and the texts by screen side."""

    pair: Pair
    swapped: bool
    position: int
    total: int

    @property
    def left(self) -> str:
        """Text shown on the left."""
        return self.pair.output_2 if self.swapped else self.pair.output_1

    @property
    def right(self) -> str:
        """Text shown on the right."""
        return self.pair.output_1 if self.swapped else self.pair.output_2

    @property
    def left_generator(self) -> str:
        """Model name of the left output (reveal only after the vote)."""
        return self.pair.generator_2 if self.swapped else self.pair.generator_1

    @property
    def right_generator(self) -> str:
        """Model name of the right output (reveal only after the vote)."""
        return self.pair.generator_1 if self.swapped else self.pair.generator_2


@dataclass(frozen=True)
class Change:
    """What one operation changed. ``undone`` is True for the record of an undo."""

    kind: str  # "record" | "skip" | "flag"
    shown: Shown
    choice: Choice | None = None
    preference: float | None = None
    row_id: int = 0  # annotation, skip or flag id
    seconds: float | None = None
    undone: bool = False
    stats_row: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def comparison_id(self) -> int:
        """The comparison the change is about."""
        return self.shown.pair.comparison_id


@dataclass(frozen=True)
class SessionFigures:
    """Figures of this session: items done, median active seconds, answers by kind."""

    items_done: int
    median_seconds: float | None
    counts: Mapping[str, int]


class LabellingSession:
    """One annotator working through one queue; every operation returns a :class:`Change`."""

    def __init__(
        self,
        store: Store,
        annotator_id: int,
        queue: LabelQueue,
        *,
        session_id: int | None = None,
        group: str = "humans",
        source: str = "label",
        stats: StatsSink | None = None,
        clock: ActiveClock | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.store, self.annotator_id, self.queue = store, annotator_id, queue
        self.session_id, self.group, self.source = session_id, group, source
        self.stats, self.clock = stats, clock or ActiveClock()
        self.extra = dict(extra or {})
        self._shown: Shown | None = None
        self._shown_at: str | None = None
        self._upcoming: dict[int, Pair] = {}  # prefetched pair of the next item
        self._answers: dict[int, tuple[Choice, float | None]] = {}  # live annotation id -> answer
        self._counts: Counter[str] = Counter()  # answers by kind (kept in step with _answers)
        self._seconds: list[float] = []  # sorted active seconds of the live answers
        self._attempt: tuple[int, float, str] | None = None  # (comparison, seconds, submitted_at) of a try

    @classmethod
    def open(cls, store: Store, spec: QueueSpec, **kwargs: Any) -> LabellingSession:
        """Create (or find) the annotator, open a session row and resume the annotator's queue."""
        with store.transaction() as tx:
            annotator_id = tx.annotator_id(
                spec.annotator, "human", group=spec.group, member=spec.annotator
            )
            ids = q.queue_comparisons(store, spec.reference, spec.candidates, spec.dataset)
            meta = {"reference": spec.reference, "candidates": list(spec.candidates),
                    "dataset": spec.dataset, "seed": spec.seed, "items": len(ids)}  # fmt: skip
            session_id = tx.start_session(annotator_id, "label", meta)
            queue = LabelQueue(
                ids, spec.annotator, spec.seed,
                done=q.finished_comparisons(store, annotator_id),
                skipped=q.skipped_comparisons(store, annotator_id),
            )  # fmt: skip
        group = store.annotator_row(annotator_id=annotator_id)["group_name"]  # type: ignore[index]
        # The queue description lives once on the session row (sessions.meta), not in every label.
        return cls(store, annotator_id, queue, session_id=session_id, group=group, **kwargs)

    # -- the item on screen ------------------------------------------------------------------
    def current(self) -> Shown | None:
        """The item to show (None when the queue is empty); a new item restarts the clock."""
        item = self.queue.current()
        if item is None:
            self._shown = None
            return None
        if self._shown is None or self._shown.pair.comparison_id != item.comparison_id:
            pair = self._upcoming.pop(item.comparison_id, None) or self.store.pair(item.comparison_id)
            self._shown = Shown(pair, item.swapped, item.position, item.total)
            self._shown_at = utcnow()
            self._attempt = None
            self.clock.restart()
        elif self._shown.position != item.position:
            self._shown = replace(self._shown, position=item.position)
        return self._shown

    def upcoming(self) -> Shown | None:
        """The item shown after a vote on the current one (for prefetching; clock untouched)."""
        cid = self.queue.peek(1)
        if cid is None:
            return None
        pair = self._upcoming.get(cid) or self.store.pair(cid)
        self._upcoming = {cid: pair}  # keep one: the queue may change before it is used
        item = self.queue.current()
        return Shown(pair, self.queue.swapped(cid), item.position + 1, item.total)  # type: ignore[union-attr]

    def _require(self) -> Shown:
        shown = self.current()
        if shown is None:
            raise SessionError("the queue is empty: nothing to label")
        return shown

    def measure(self, shown: Shown) -> tuple[float, str]:
        """Active seconds and submission time of a vote on ``shown`` as at its first try (a retry keeps them)."""
        cid = shown.pair.comparison_id
        if self._attempt is None or self._attempt[0] != cid:
            self._attempt = (cid, round(self.clock.seconds(), 3), utcnow())
        return self._attempt[1], self._attempt[2]

    def forget_attempt(self) -> None:
        """Drop the measure of a failed vote (cancelled: the next vote measures afresh)."""
        self._attempt = None

    def _stats_row(self, annotation_id: int, shown: Shown, preference: float | None) -> dict[str, Any]:
        """The label as live statistics see it (can't-judge: preference None = unparsed)."""
        return {"annotation_id": annotation_id, "comparison_id": shown.pair.comparison_id,
                "generator_2": shown.pair.generator_2, "annotator": self.group,
                "annotator_kind": "human", "preference": preference}  # fmt: skip

    # -- operations --------------------------------------------------------------------------
    def record(
        self,
        choice: Choice | str,
        rationale: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        judge_visible: bool = False,
    ) -> Change:
        """Store a terminal answer for the current item and move on.

        Parameters
        ----------
        choice : Choice or str
            What was chosen in the *shown* order (left / right / tie_good / tie_bad / cant_judge).
        rationale : str, optional
            Free text; stored as given (empty text is stored as None).
        extra : mapping, optional
            Extra facts without a column (merged into the annotation's ``extra`` JSON).
        judge_visible : bool
            Whether a judge verdict was visible before the answer (review mode).

        Raises
        ------
        DatabaseBusy
            Another program holds the write lock: nothing stored, the session as before; retry.
        """
        choice = Choice(choice)
        if choice not in TERMINAL:
            raise SessionError(f"record: {choice.value!r} is not an answer (use skip)")
        shown = self._require()
        seconds, submitted_at = self.measure(shown)
        preference = canonical_preference(choice, shown.swapped)
        all_extra = {**self.extra, "position": shown.position, **dict(extra or {})}
        with self.store.transaction() as tx:
            annotation_id = tx.add_annotation(
                comparison_id=shown.pair.comparison_id, annotator_id=self.annotator_id,
                preference=preference, raw_choice=choice.value,
                raw_preference=canonical_preference(choice, False), swapped=int(shown.swapped),
                rationale=(rationale or None), seconds=seconds, session_id=self.session_id,
                source=self.source, judge_visible=int(judge_visible), extra=all_extra,
                shown_at=self._shown_at, submitted_at=submitted_at,
            )  # fmt: skip
        self._attempt = None
        self.queue.complete(shown.pair.comparison_id)
        change = Change("record", shown, choice, preference, annotation_id, seconds,
                        stats_row=self._stats_row(annotation_id, shown, preference),
                        extra=all_extra)  # fmt: skip
        self._apply(change)
        return change

    def skip(self) -> Change:
        """Defer the current item to the end of the queue (recorded in ``skips``)."""
        shown = self._require()
        seconds = round(self.clock.seconds(), 3)
        with self.store.transaction() as tx:
            skip_id = q.add_skip(
                tx, comparison_id=shown.pair.comparison_id, annotator_id=self.annotator_id,
                session_id=self.session_id, swapped=shown.swapped, seconds=seconds,
                shown_at=self._shown_at, submitted_at=utcnow(),
            )  # fmt: skip
        self.queue.skip(shown.pair.comparison_id)
        return Change("skip", shown, Choice.SKIP, None, skip_id, seconds)

    def flag(self, note: str | None = None) -> Change:
        """Flag the current item for the coordinator (it stays on screen)."""
        shown = self._require()
        self.clock.touch()
        with self.store.transaction() as tx:
            flag_id = q.add_flag(tx, comparison_id=shown.pair.comparison_id,
                                 annotator_id=self.annotator_id, session_id=self.session_id,
                                 note=note or None)  # fmt: skip
        return Change("flag", shown, None, None, flag_id)

    def undo(self, change: Change) -> Change:
        """Retract what ``change`` did (never deletes) and return to its item."""
        if change.undone:
            raise SessionError("undo: this change is already undone")
        cid = change.comparison_id
        with self.store.transaction() as tx:
            if change.kind == "record":
                tx.retract_annotation(change.row_id)
            elif change.kind == "skip":
                q.set_skip_retracted(tx, change.row_id, True)
            else:
                q.set_flag_retracted(tx, change.row_id, True)
        if change.kind == "record":
            self.queue.reopen(cid)
        elif change.kind == "skip":
            self.queue.unskip(cid)
        undone = replace(change, undone=True)
        self._apply(undone)
        return undone

    def redo(self, change: Change) -> Change:
        """Restore what an undone change did (the label comes back, the queue moves on)."""
        if not change.undone:
            raise SessionError("redo: this change is not undone")
        with self.store.transaction() as tx:
            if change.kind == "record":
                tx.restore_annotation(change.row_id)
            elif change.kind == "skip":
                q.set_skip_retracted(tx, change.row_id, False)
            else:
                q.set_flag_retracted(tx, change.row_id, False)
        if change.kind == "record":
            self.queue.complete(change.comparison_id)
        elif change.kind == "skip":
            self.queue.skip(change.comparison_id)
        redone = replace(change, undone=False)
        self._apply(redone)
        return redone

    def _apply(self, change: Change) -> None:
        """Keep session figures and live statistics in step with a record / its undo."""
        if change.kind != "record":
            return
        if change.undone:
            answer = self._answers.pop(change.row_id, None)
            if answer is not None:
                self._counts[answer[0].value] -= 1
                if answer[1] is not None:
                    del self._seconds[bisect.bisect_left(self._seconds, answer[1])]
        elif change.row_id not in self._answers:
            self._answers[change.row_id] = (change.choice, change.seconds)  # type: ignore[assignment]
            self._counts[change.choice.value] += 1  # type: ignore[union-attr]
            if change.seconds is not None:
                bisect.insort(self._seconds, change.seconds)
        if self.stats is not None and change.stats_row is not None:
            (self.stats.retract if change.undone else self.stats.add)(change.stats_row)

    def touch(self) -> None:
        """An input event happened (keeps the active-time clock running)."""
        self.clock.touch()

    def figures(self) -> SessionFigures:
        """Items done in this session, median active seconds per item, answers by kind."""
        secs, n = self._seconds, len(self._seconds)
        median = None if not n else (secs[n // 2] if n % 2 else (secs[n // 2 - 1] + secs[n // 2]) / 2)
        return SessionFigures(len(self._answers), median,
                              {c.value: self._counts.get(c.value, 0) for c in TERMINAL})  # fmt: skip

    def close(self) -> None:
        """Stamp the session's end time."""
        if self.session_id is not None:
            with self.store.transaction() as tx:
                q.end_session(tx, self.session_id)
