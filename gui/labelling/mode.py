"""The workspace's extension point: what a mode (labelling, review) does around a committed vote.

See :mod:`tiebreak.gui.labelling.workspace` for the four hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tiebreak.core.labelling.session import Change
from tiebreak.gui.labelling.actions import ActionSpec

if TYPE_CHECKING:
    from tiebreak.gui.labelling.workspace import Workspace


class WorkspaceMode:
    """Default (labelling) behaviour; review mode subclasses it (see the workspace module docstring)."""

    def extra_actions(self) -> tuple[ActionSpec, ...]:
        """More actions for the table (keys, buttons, menus, cheat sheet)."""
        return ()

    def after_commit(self, change: Change, workspace: Workspace) -> bool:
        """Called after a committed vote; return True to hold the item with names revealed."""
        return False

    def on_undo(self, change: Change, workspace: Workspace) -> None:
        """Called after an undo (the item is blind again)."""

    def render(self, change: Change, workspace: Workspace) -> Change | None:
        """Show what ``change`` left on screen; return the Change to hold (None: show the next item)."""
        if change.kind == "record" and not change.undone:
            return change if self.after_commit(change, workspace) else None
        if change.undone:
            self.on_undo(change, workspace)
        return None

    def trigger(self, action_id: str, workspace: Workspace) -> None:
        """Run one of :meth:`extra_actions`."""
        raise NotImplementedError(f"mode has no handler for action {action_id!r}")
