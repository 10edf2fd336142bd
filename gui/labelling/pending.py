"""A vote that met a busy database: kept for its item, retried from a timer, never dropped silently.

While another program (an import, a crowd merge) holds the write lock, a vote cannot be stored.
The workspace's store waits only briefly (``open_interactive``), so the key press returns at once;
the vote is then held here: the status line says so, further item keys are ignored, a timer
retries every :data:`RETRY_MS` (each try bounded by the store's short busy timeout) and, once it
commits, the screen moves on as after any vote. Esc or Undo cancels it; closing the window first
tries once with a longer wait, then asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from tiebreak.core.domain import Choice
from tiebreak.core.labelling.session import DatabaseBusy, LabellingSession
from tiebreak.gui.labelling.describe import CHOICE_TEXT

if TYPE_CHECKING:
    from tiebreak.gui.labelling.workspace import Workspace

__all__ = ["BUSY_TEXT", "CLOSE_WAIT_MS", "RETRY_MS", "PendingVote", "busy_text"]

#: Interval between two tries of a held vote.
RETRY_MS = 250
#: The longer wait of the last try when the window is closed with a vote not yet saved.
CLOSE_WAIT_MS = 5000
BUSY_TEXT = ("Saving your vote… the database is busy (another program is writing, e.g. an import); "
             "it will be saved as soon as it is free")  # fmt: skip
#: Actions that still work while a vote is held (they do not act on the item).
FREE = frozenset({"diff", "raw", "lengths", "scroll_down", "scroll_up", "rationale", "cheatsheet", "guidelines"})


def busy_text(what: str) -> str:
    """The message for an operation (not a vote) refused because the database is busy."""
    return (f"{what}: not done, the database is busy (another program is writing, e.g. an import); "
            "try again in a moment")  # fmt: skip


class PendingVote(QObject):
    """The one vote of a workspace waiting for the database (see the module docstring)."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.session: LabellingSession | None = None
        self.choice: Choice | None = None
        self.rationale: str | None = None
        self.comparison_id: int | None = None
        self.tries = 0
        self.close_wait_ms = CLOSE_WAIT_MS
        self.timer = QTimer(self, interval=RETRY_MS)
        self.timer.timeout.connect(self.retry)
        self.cancel_action = QAction("Cancel the vote waiting to be saved", workspace)
        self.cancel_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(self.cancel)
        workspace.addAction(self.cancel_action)
        self._window: QWidget | None = None

    @property
    def active(self) -> bool:
        """True while a vote waits to be saved."""
        return self.session is not None

    def blocks(self, action_id: str) -> bool:
        """True (and the user told why) when ``action_id`` must wait for the held vote."""
        if not self.active or action_id in FREE or action_id == "undo":
            return False
        self.workspace.report(f"{BUSY_TEXT}. Esc or Undo cancels this vote.")
        return True

    def hold(self, session: LabellingSession, choice: Choice, rationale: str | None) -> None:
        """Keep a vote that found the database busy and start retrying it."""
        shown = session.current()
        self.session, self.choice, self.rationale = session, choice, rationale
        self.comparison_id = shown.pair.comparison_id if shown is not None else None
        self.tries = 1
        self.cancel_action.setEnabled(True)
        self._window = self.workspace.window()
        self._window.installEventFilter(self)
        self.timer.start()
        self.workspace.report(BUSY_TEXT)
        self.workspace.view.set_reveal(f"Your vote “{CHOICE_TEXT[choice]}” is waiting to be saved: the database "
                                       "is busy. It is saved as soon as it is free; Esc or Undo cancels it.")

    def retry(self) -> bool:
        """One try to store the held vote (bounded by the store's busy timeout); True when saved."""
        session = self.session
        if session is None or self.choice is None:
            return False
        self.tries += 1
        try:
            change = session.record(self.choice, self.rationale)
        except DatabaseBusy:
            return False
        except Exception as exc:  # noqa: BLE001 (said in the status bar: the vote is not stored)
            session.forget_attempt()
            self._clear()
            self.workspace.report(f"Your vote could not be saved: {exc}")
            self.workspace.view.set_reveal(f"Not saved: {exc}")
            return False
        self._clear()
        self.workspace.vote_saved(change, session)
        self.workspace.report("Your vote is saved (the database is free again).")
        return True

    def cancel(self) -> None:
        """Drop the held vote (Esc, Undo, or the user's choice when closing); the item stays."""
        if self.session is None:
            return
        self.session.forget_attempt()
        self._clear()
        self.workspace.view.set_reveal("Vote cancelled: nothing was saved; the item is still on screen.")
        self.workspace.report("Vote cancelled: it was not saved (the database was busy). Vote again when ready.")

    def _clear(self) -> None:
        self.timer.stop()
        self.session = self.choice = self.rationale = self.comparison_id = None
        self.cancel_action.setEnabled(False)
        if self._window is not None:
            self._window.removeEventFilter(self)
            self._window = None

    # -- closing with a vote not yet saved ----------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Closing the window with a held vote: save it first, or ask."""
        if event.type() == QEvent.Type.Close and self.active and not self.save_before_close():
            event.ignore()
            return True
        return False

    def save_before_close(self) -> bool:
        """Try once with a longer wait; if still busy, ask. True: the window may close."""
        session = self.session
        if session is None:
            return True
        self.workspace.report("Saving your vote before closing…")
        with session.store.busy_timeout(self.close_wait_ms):
            if self.retry() or not self.active:
                return True
        answer = self.ask_discard()
        if answer:
            self.cancel()
        else:
            self.workspace.report(f"{BUSY_TEXT}. The window stays open until it is saved (or Esc cancels it).")
        return answer

    def ask_discard(self) -> bool:
        """Ask whether to close without the vote (default: no, keep the window and keep trying)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Your vote is not saved yet",
                          "The database is still busy (another program is writing, e.g. an import), so "
                          "your last vote is not saved yet.\n\nClose anyway and lose this vote?",
                          QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                          self.workspace)  # fmt: skip
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Discard).setText("Close and lose the vote")
        box.button(QMessageBox.StandardButton.Cancel).setText("Keep waiting")
        return box.exec() == QMessageBox.StandardButton.Discard
