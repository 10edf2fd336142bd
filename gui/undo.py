"""Undo commands: each wraps one session Change and acts on the session, never on widgets."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand, QUndoStack

from tiebreak.core.labelling.session import Change, DatabaseBusy, LabellingSession

BUSY = ("{}: not done, the database is busy (another program is writing, e.g. an import); "
        "nothing changed, try again in a moment")  # fmt: skip


class ChangeCommand(QUndoCommand):
    """A decision already carried out by the session; undo retracts it, redo restores it.

    The first ``redo()`` (called by ``QUndoStack.push``) does nothing: the operation ran before
    the push so that its errors reach the caller. Errors of later undo/redo go to ``on_error``
    (an exception cannot cross Qt's C++ frames).
    """

    def __init__(
        self,
        session: LabellingSession,
        change: Change,
        on_change: Callable[[Change], None],
        on_error: Callable[[str], None],
    ) -> None:
        super().__init__(f"{change.kind} {change.choice.value if change.choice else ''}".strip())
        self.session, self.change = session, change
        self._on_change, self._on_error = on_change, on_error
        self._pushed = False
        self.busy = False  # the last undo/redo met a busy database: nothing changed
        self.skip = False  # the next undo/redo only puts the stack back (see :func:`step`)

    def redo(self) -> None:  # noqa: D102 (Qt override)
        if not self._pushed:
            self._pushed = True
            return
        self._run(self.session.redo)

    def undo(self) -> None:  # noqa: D102 (Qt override)
        self._run(self.session.undo)

    def _run(self, op: Callable[[Change], Change]) -> None:
        if self.skip:
            self.skip = False
            return
        try:
            self.change = op(self.change)
        except DatabaseBusy:  # nothing changed: step() puts the stack back, the command stays
            self.busy = True
            self._on_error(BUSY.format(op.__name__))
            return
        except Exception as exc:  # noqa: BLE001 (shown in the status bar, never a crash)
            self.setObsolete(True)
            self._on_error(f"{op.__name__} failed: {exc}")
            return
        self._on_change(self.change)


def step(stack: QUndoStack, undo: bool) -> None:
    """Undo (or redo) one command; when the database was busy, the stack returns to where it was."""
    index = stack.index()
    stack.undo() if undo else stack.redo()
    command = stack.command(index - 1 if undo else index)
    if isinstance(command, ChangeCommand) and command.busy:
        command.busy, command.skip = False, True
        stack.setIndex(index)
