"""The labelling workspace: key -> session operation -> Change -> refreshed views.

Extension point (review mode, spot-check)
-----------------------------------------
Review mode reuses this workspace ("blind, then reveal, in the same workspace with the same
keys") through four hooks:

(a) **Queue**: any ``LabellingSession`` over any ``LabelQueue``: ``workspace.start(session)``.
(b) **After commit**: subclass :class:`WorkspaceMode` and pass it as ``Workspace(ctx, mode=...)``.
    ``after_commit(change, workspace)`` is called after every committed vote (``change.kind ==
    "record"``) once the names are known; put extra information (judge verdict, confidence,
    rationale) into a widget added to ``workspace.view.reveal_area`` and return True to *hold* the
    item on screen with model names revealed (vote keys are then inactive). Call
    ``workspace.advance()`` when the reviewer is done. ``on_undo(change, workspace)`` runs after an
    undo so the mode can clear its panel.
(c) **Actions**: ``extra_actions()`` returns more :class:`~tiebreak.gui.labelling.actions.ActionSpec` rows
    (e.g. ``a`` accept, ``x`` override); they get keys, buttons, menu entries and cheat-sheet lines
    like the built-in ones, and ``trigger(action_id, workspace)`` is called when one fires.
    ``workspace.holding`` is the Change being held (None when not holding).
(d) **Render**: ``render(change, workspace)`` decides what stays on screen after any Change (the
    default calls ``after_commit`` / ``on_undo``); review mode renders its core state machine.

Only the workspace in front acts: its actions are disabled while it is hidden (ShownOnly).
A vote that finds the database busy is held and retried without blocking (:mod:`.pending`).

Signals of :class:`Workspace`: ``item_shown(int)`` (a comparison id was drawn; -1 = empty queue),
``changed(object)`` (a Change was applied: record, skip, flag, or their undo/redo).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QPalette, QUndoStack
from PySide6.QtWidgets import QVBoxLayout, QWidget

from tiebreak.core.domain import Choice
from tiebreak.core.labelling.session import Change, DatabaseBusy, LabellingSession
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.actions import LABELLING_ACTIONS, ActionSpec, make_actions
from tiebreak.gui.labelling.cheatsheet import GUIDELINES, TextDialog, cheatsheet_html
from tiebreak.gui.labelling.describe import VOTES, describe
from tiebreak.gui.labelling.drafts import Drafts
from tiebreak.gui.labelling.mode import WorkspaceMode
from tiebreak.gui.labelling.pending import PendingVote, busy_text
from tiebreak.gui.labelling.workspace_view import WorkspaceView
from tiebreak.gui.screen_loader import collect_young
from tiebreak.gui.undo import ChangeCommand, step

__all__ = ["PREFETCH_DELAY_MS", "Workspace", "WorkspaceMode"]

PREFETCH_DELAY_MS = 30  # after the paint of an item; a person needs far longer to vote


class Workspace(QWidget):
    """Keyboard-first labelling of one session (see the module docstring for the signals)."""

    item_shown = Signal(int)
    changed = Signal(object)
    IDENTITY = "Labelling as {}"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, mode: WorkspaceMode | None = None):
        super().__init__(parent)
        self.ctx, self.mode = ctx, mode or WorkspaceMode()
        self.session: LabellingSession | None = None
        self.stats_feed = None  # StatsFeed (tiebreak.gui.labelling.stats_feed) once statistics are loaded
        self.holding: Change | None = None
        self.undo_stack = QUndoStack(self)
        self.view = WorkspaceView(self)
        QVBoxLayout(self).addWidget(self.view)
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.specs = LABELLING_ACTIONS + tuple(self.mode.extra_actions())
        self.actions_by_id: dict[str, QAction] = make_actions(self.specs, self, self.trigger)
        for spec in self.specs:
            if spec.button:
                action = self.actions_by_id[spec.id]
                button = self.view.add_button(spec, action.trigger, spec.checkable)
                if spec.checkable:
                    action.toggled.connect(button.setChecked)
        self.view.rationale.leave.connect(self.setFocus)
        for pane in (self.view.left, self.view.right):
            for view in pane.views:  # scrolling the shown view is input; staging the spare is not
                view.verticalScrollBar().valueChanged.connect(
                    lambda _v, p=pane, v=view: self._touch() if v is p.view else None
                )
        self.view.rationale.textChanged.connect(self._touch)
        self._dialogs: dict[str, TextDialog] = {}
        self.drafts = Drafts(self.view.rationale)
        self._prefetch_timer = QTimer(self, singleShot=True, interval=PREFETCH_DELAY_MS)
        self._prefetch_timer.timeout.connect(self._prefetch)
        self.pending = PendingVote(self)  # a vote waiting for a busy database
        self.view.show_empty(0, 0)
        self.view.stats.show_unavailable("no session started yet")

    # -- session ------------------------------------------------------------------------------
    def start(self, session: LabellingSession, stats_feed=None, *, annotator: str | None = None) -> None:
        """Label ``session``'s queue from its current item; ``stats_feed`` may come later.

        ``annotator`` is the name shown prominently; another identity than before clears every
        unsent rationale draft (drafts belong to one annotator and one item).
        """
        if self.session is None or self.session.annotator_id != session.annotator_id:
            self.drafts.clear()
        self.session, self.holding = session, None
        self.view.show_identity(self.IDENTITY.format(annotator) if annotator else "")
        self.undo_stack.clear()
        if stats_feed is None:
            self.view.stats.show_unavailable("loading…")
        self.view.set_reveal("")
        self.show_current()
        self.set_stats_feed(stats_feed)
        self.setFocus()

    def set_stats_feed(self, feed) -> None:
        """Attach live statistics (built after the first paint to keep start-up fast)."""
        self.stats_feed = feed
        if feed is not None and self.session is not None:
            self.session.stats = feed
        self._refresh_stats()

    def show_current(self) -> None:
        """Draw the session's current item (or the finished-queue page)."""
        shown = self.session.current() if self.session else None
        if shown is None:
            q = self.session.queue if self.session else None
            self.drafts.switch(None)
            self.view.show_empty(q.n_done if q else 0, q.total if q else 0)
            self.item_shown.emit(-1)
            return
        self.drafts.switch((self.session.annotator_id, shown.pair.comparison_id))
        self.view.show_item(shown, raw=self._on("raw"), diff=self._on("diff"),
                            lengths=self._on("lengths"), colors=self._diff_colors())  # fmt: skip
        self.item_shown.emit(shown.pair.comparison_id)
        self._prefetch_timer.start(PREFETCH_DELAY_MS)

    def _prefetch(self) -> None:
        """In idle time, prepare what a vote will show next (never while holding or diffing)."""
        if self.session is not None and self.holding is None and not self._on("diff"):
            try:
                upcoming = self.session.upcoming()
                if upcoming is not None and not self.view.prefetch(upcoming, self._on("raw")):
                    self._prefetch_timer.start(0)  # the instruction box grew: again once laid out
                    return
                current = self.session.current()
                if current is not None and self.stats_feed is not None:
                    self.stats_feed.prepare(current.pair.comparison_id)
            except Exception as exc:  # noqa: BLE001 (an optimisation must never break labelling)
                self.report(f"prefetch: {exc}")
        collect_young()  # the garbage of this press is collected now, not inside the next one

    def advance(self) -> None:
        """Stop holding a revealed item and show the next one (modes call this)."""
        self.holding = None
        self.show_current()

    # -- actions ------------------------------------------------------------------------------
    def trigger(self, action_id: str) -> None:
        """Run one action by id; every error goes to the status bar, never up.

        A workspace that is not shown does nothing (its actions are disabled too): keys only ever
        act on the item the annotator sees.
        """
        if not self.isVisible() or self.pending.blocks(action_id):
            return
        self._touch()
        try:
            if action_id in VOTES:
                self._vote(VOTES[action_id])
            elif hasattr(self, f"_do_{action_id}"):
                getattr(self, f"_do_{action_id}")()
            else:
                self.mode.trigger(action_id, self)
        except DatabaseBusy:
            self.report(busy_text(action_id))
        except Exception as exc:  # noqa: BLE001 (the status bar, never a crash)
            self.report(f"{action_id}: {exc}")

    def report(self, message: str) -> None:
        """Show a message in the status bar."""
        self.ctx.events.status_message.emit(message)

    def _on(self, toggle: str) -> bool:
        return self.actions_by_id[toggle].isChecked()

    def _touch(self) -> None:
        if self.session is not None:
            self.session.touch()

    def _need_session(self) -> LabellingSession:
        if self.session is None:
            raise RuntimeError("no labelling session: File ▸ New labelling session…")
        if self.holding is not None:
            raise RuntimeError("finish the revealed item first (see the keys below it)")
        return self.session

    def _vote(self, choice: Choice) -> None:
        session = self._need_session()
        text = self.view.rationale.toPlainText().strip() or None
        try:
            change = session.record(choice, text)
        except DatabaseBusy:  # another program writes: keep the vote and retry (never block)
            self.pending.hold(session, choice, text)
            return
        self.vote_saved(change, session)

    def vote_saved(self, change: Change, session: LabellingSession) -> None:
        """A vote committed (at once or after waiting): move on as after any vote."""
        if session is not self.session:
            self.report("Your vote on the previous session was saved.")
            return
        if self.view.rationale.document().characterCount() > 1:
            self.view.rationale.clear()
        self.push(change)

    def _do_skip(self) -> None:
        self.push(self._need_session().skip())

    def _do_flag(self) -> None:
        """Flag the item; text typed in the rationale box (if any) becomes the flag's note."""
        note = self.view.rationale.toPlainText().strip()
        self.push(self._need_session().flag(note or None))
        if note:
            self.view.rationale.clear()

    def push(self, change: Change) -> None:
        """Put a Change the session just made on the undo stack and show it (modes call this)."""
        self.undo_stack.push(ChangeCommand(self.session, change, self.apply_change, self.report))
        self.apply_change(change)

    def _do_undo(self) -> None:
        if self.pending.active:
            self.pending.cancel()
            return
        if not self.undo_stack.canUndo():
            raise RuntimeError("nothing to undo")
        step(self.undo_stack, undo=True)

    def _do_redo(self) -> None:
        if not self.undo_stack.canRedo():
            raise RuntimeError("nothing to redo")
        step(self.undo_stack, undo=False)

    # -- what changed -> views ----------------------------------------------------------------
    def apply_change(self, change: Change) -> None:
        """Refresh the views from one Change (also called by undo/redo)."""
        self.holding = self.mode.render(change, self)
        self.view.set_reveal(describe(change, held=self.holding is change))
        if self.view.rationale.isHidden() != (self.holding is not None):  # a held item: no rationale to type
            # only on a change: setVisible(True) on a widget never shown explicitly lays out and
            # repaints the whole window (the first vote of every session took 14 ms for it)
            self.view.rationale.setVisible(self.holding is None)
        if self.holding is not None:
            self.view.reveal_names(self.holding.shown, self._on("lengths"))
        elif change.kind != "flag":
            self.show_current()
        self._refresh_stats()
        self.changed.emit(change)
        self.ctx.events.annotations_changed.emit(change)

    def _refresh_stats(self) -> None:
        if self.session is None:
            return
        q = self.session.queue
        self.view.stats.show_session(self.session.figures(), q.n_done, q.total)
        if self.stats_feed is not None:
            self.view.stats.show_stats(*self.stats_feed.lines())

    # -- view toggles, scrolling, help ---------------------------------------------------------
    def _redraw(self) -> None:
        if self.holding is None:
            self.show_current()

    _do_diff = _do_raw = _do_lengths = _redraw

    def _do_scroll_down(self) -> None:
        self.view.left.scroll_by_pages(0.8)

    def _do_scroll_up(self) -> None:
        self.view.left.scroll_by_pages(-0.8)

    def _do_rationale(self) -> None:
        self.view.rationale.setFocus()

    def _do_cheatsheet(self) -> None:
        self._dialog("cheatsheet", "Keyboard shortcuts", cheatsheet_html(self.all_specs()))

    def _do_guidelines(self) -> None:
        self._dialog("guidelines", "Guidelines", GUIDELINES)

    def all_specs(self) -> tuple[ActionSpec, ...]:
        """Every action of the workspace and of the window (for the cheat sheet)."""
        return self.specs + tuple(getattr(self.window(), "app_specs", ()))

    def _dialog(self, key: str, title: str, body: str) -> None:
        dialog = self._dialogs[key] = self._dialogs.get(key) or TextDialog(title, body, self)
        dialog.browser.setHtml(body)
        dialog.show()
        dialog.activateWindow()

    def _diff_colors(self) -> tuple[str, str]:
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        neutral = "#5c5130" if dark else "#fff0b3"  # one neutral mark: neither side is "wrong"
        return neutral, neutral
