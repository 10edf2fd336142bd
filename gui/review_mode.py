"""Review mode of the labelling workspace: blind vote, then the judge's verdict, then a / x."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from tiebreak.core.domain import Choice
from tiebreak.core.labelling.session import Change
from tiebreak.core.review.machine import rationale_words, shown_probabilities
from tiebreak.core.review.session import REASONS, Reveal, ReviewSession, ReviewState
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.actions import ActionSpec
from tiebreak.gui.labelling.describe import CHOICE_TEXT, VOTES
from tiebreak.gui.labelling.workspace import Workspace, WorkspaceMode
from tiebreak.gui.safe_text import display_name, plain_label

#: Blind decisions that can stand as an override verdict (X then needs no second key).
OVERRIDE_CHOICES = (Choice.LEFT, Choice.RIGHT, Choice.TIE_GOOD, Choice.TIE_BAD)
REVIEW_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("accept", "Accept judge", ("A",), "&Review", True,
               "after the reveal: accept the judge's verdict (with the reason shown, if any)"),
    ActionSpec("override", "Override judge", ("X",), "&Review", True,
               "after the reveal: override the judge (with your blind verdict when it disagrees; else press a verdict key)"),
    ActionSpec("reason", "Next reason", ("E",), "&Review", True,
               "after the reveal: cycle the optional reason (custom: type it in the box)"),
)  # fmt: skip


class ReasonEdit(QLineEdit):
    """Text of a custom reason; Esc or Enter gives the keys back to the workspace."""

    leave = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        """Esc / Enter leave the box; everything else is typing."""
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.leave.emit()
            return
        super().keyPressEvent(event)


class RevealPanel(QFrame):
    """The judge's verdict, its confidence and rationale, the reason and what the keys do now."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("revealPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.verdict = plain_label()
        self.verdict.setObjectName("judgeVerdict")
        self.verdict.setWordWrap(True)
        self.rationale = QPlainTextEdit()
        self.rationale.setReadOnly(True)
        self.rationale.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.rationale.setMaximumHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.reason = QComboBox()
        self.reason.addItems(["(no reason)", *REASONS])
        self.reason.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reason_text = ReasonEdit()
        self.reason_text.setPlaceholderText("custom reason (click to type; Esc leaves)")
        self.prompt = plain_label()
        self.prompt.setObjectName("reviewPrompt")
        self.reveal: Reveal | None = None
        self.decide_row = QHBoxLayout()  # reason, custom text, then the A / X / E buttons (added later)
        self.decide_row.addWidget(self.reason)
        self.decide_row.addWidget(self.reason_text, 1)
        form = QFormLayout(self)
        form.setContentsMargins(8, 4, 8, 4)
        form.addRow("Judge", self.verdict)
        form.addRow("Rationale", self.rationale)
        form.addRow("Reason [E]", self.decide_row)
        form.addRow(self.prompt)
        self.clear()

    def show_reveal(self, reveal: Reveal) -> None:
        """Show the judge's side of the held item (left / right as on screen, probabilities in words)."""
        self.reveal = reveal
        mine = CHOICE_TEXT.get(reveal.blind.choice, str(reveal.blind.choice))
        judge = CHOICE_TEXT[reveal.judge_choice]
        left, right = shown_probabilities(reveal)
        agree = "agrees with you" if reveal.agrees else "DISAGREES with you"
        self.verdict.setText(f"{display_name(reveal.judge)}: {judge} (left {left:.0%}, right {right:.0%}) - {agree} "
                             f"(you: {mine})")  # fmt: skip
        self.rationale.setPlainText(rationale_words(reveal))
        self.reason.setCurrentIndex(0)
        self.reason_text.clear()
        self.prompt.clear()
        if self.one_step_override():  # X keeps the blind decision: no second key needed
            self.prompt.setText(f"A accepts the judge's verdict · X overrides it with yours ({mine})")
        self.prompt.setVisible(bool(self.prompt.text()))
        self.setVisible(True)

    def one_step_override(self) -> bool:
        """The blind decision already disagrees with the judge (X overrides with it at once)."""
        reveal = self.reveal
        return reveal is not None and not reveal.agrees and reveal.blind.choice in OVERRIDE_CHOICES

    def prompt_override(self) -> None:
        """After X: ask for the reviewer's verdict with the usual vote keys."""
        self.prompt.setText("Override: press your verdict: ← / 1 left · → / 2 right · ↓ / 3 tie good · "
                            "Shift+↓ / 4 tie bad (Backspace undoes the blind vote)")  # fmt: skip
        self.prompt.setVisible(True)

    def next_reason(self) -> None:
        """Cycle the reason combo box."""
        self.reason.setCurrentIndex((self.reason.currentIndex() + 1) % self.reason.count())
        if self.reason.currentText() == "custom":
            self.reason_text.setFocus()

    def chosen_reason(self) -> tuple[str | None, str | None]:
        """(reason, custom text) as chosen."""
        idx = self.reason.currentIndex()
        return (None if idx == 0 else self.reason.currentText()), (self.reason_text.text().strip() or None)

    def show_error(self, message: str) -> None:
        """Say that the reveal could not be drawn (the keys still decide the item)."""
        self.rationale.setPlainText(message)
        self.prompt.setText("A accepts the judge's verdict · X overrides it")
        self.setVisible(True)

    def clear(self) -> None:
        """Hide the panel (blind again)."""
        self.reveal = None
        self.verdict.clear()
        self.rationale.clear()
        self.prompt.clear()
        self.setVisible(False)


class ReviewMode(WorkspaceMode):
    """Renders the review state machine of the session; forwards accept / override to it.

    The machine (``tiebreak.core.review``) decides the state; this mode only shows it. Rendering
    that fails shows the error in the panel and leaves the machine where it is (still revealed).
    """

    def __init__(self, panel: RevealPanel) -> None:
        self.panel = panel
        self.awaiting_override = False

    def extra_actions(self) -> tuple[ActionSpec, ...]:
        """The a / x / e keys."""
        return REVIEW_ACTIONS

    def render(self, change: Change, workspace: Workspace) -> Change | None:
        """Show the machine's state after ``change``: hold the revealed item, else show the next."""
        self.awaiting_override = False
        step = self._session(workspace).step()
        if step.state is not ReviewState.REVEALED or step.reveal is None:
            self.panel.clear()
            return None
        try:
            self.panel.show_reveal(step.reveal)
        except Exception as exc:  # noqa: BLE001 (the machine stays revealed; the error is shown)
            self.panel.show_error(f"could not show the judge's verdict: {type(exc).__name__}: {exc}")
            workspace.report(f"reveal: {exc}")
        return step.reveal.blind

    def trigger(self, action_id: str, workspace: Workspace) -> None:
        """Accept, start an override, or cycle the reason."""
        if workspace.holding is None:
            raise RuntimeError("decide first: the judge's verdict is revealed after your own vote")
        if action_id == "reason":
            self.panel.next_reason()
        elif action_id == "accept":
            workspace.push(self._session(workspace).accept(None, *self.panel.chosen_reason()))
            workspace.setFocus()
        elif action_id == "override" and self.panel.one_step_override() and self.panel.reveal is not None:
            self.override_with(self.panel.reveal.blind.choice, workspace)  # the blind vote is the verdict
        elif action_id == "override":
            self.awaiting_override = True
            self.panel.prompt_override()
        else:
            super().trigger(action_id, workspace)

    def override_with(self, choice: Choice, workspace: Workspace) -> None:
        """Store the override with the reviewer's verdict and move on."""
        workspace.push(self._session(workspace).override(None, choice, *self.panel.chosen_reason()))
        workspace.setFocus()

    @staticmethod
    def _session(workspace: Workspace) -> ReviewSession:
        session = workspace.session
        if not isinstance(session, ReviewSession):
            raise RuntimeError("review mode needs a review session")
        return session


class ReviewWorkspace(Workspace):
    """The labelling workspace with review mode: the same keys; after X they give the override."""

    IDENTITY = "Reviewing as {}"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        self.panel = RevealPanel()
        super().__init__(ctx, parent, mode=ReviewMode(self.panel))
        self.view.reveal_area.addWidget(self.panel)
        self.panel.reason_text.leave.connect(self.setFocus)
        for spec in REVIEW_ACTIONS:  # A / X / E sit with the verdict they act on
            button = self.view.button_widgets[spec.id]
            self.view.tool_buttons.removeWidget(button)
            self.panel.decide_row.addWidget(button)

    def trigger(self, action_id: str) -> None:
        """Vote keys choose the override verdict after X; everything else as in labelling."""
        mode = self.mode
        if action_id in VOTES and self.holding is not None and isinstance(mode, ReviewMode) and mode.awaiting_override:
            self._touch()
            try:
                mode.override_with(VOTES[action_id], self)
            except Exception as exc:  # noqa: BLE001 (the status bar, never a crash)
                self.report(f"override: {exc}")
            return
        super().trigger(action_id)
