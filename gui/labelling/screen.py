"""The Labelling screen: first "who is labelling?" (the start form), then the workspace.

On launch the form asks who is labelling, prefilled with the last name and queue of *this*
database (never another database's); Enter resumes. Nothing starts silently.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QStackedWidget, QWidget

from tiebreak.core.identity import database_id, pooled_statistics_shown
from tiebreak.core.labelling.session import DatabaseBusy, LabellingSession, QueueSpec
from tiebreak.core.sample import open_interactive
from tiebreak.gui import settings as app_settings
from tiebreak.gui.checkpoints import Checkpointer
from tiebreak.gui.context import AppContext
from tiebreak.gui.labelling.start_form import StartForm
from tiebreak.gui.labelling.stats_feed import StatsFeed, import_live_in_background
from tiebreak.gui.labelling.workspace import Workspace

HIDDEN = "pooled win rates and judge agreement are hidden while labelling (a coordinator turns them on)"


class LabellingScreen(QStackedWidget):
    """Start form (page 0) and workspace (page 1); the Labelling tab of the main window."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.database = database_id(ctx.store)
        self.form = StartForm(ctx.store)
        self.workspace = Workspace(ctx)
        self.store = None  # the labelling connection: its writes never wait long (open_interactive)
        self.checkpointer = Checkpointer(self)  # ... and never checkpoint: its log is copied in the background
        self.workspace.changed.connect(self.checkpointer.wrote)
        self.addWidget(self.form)
        self.addWidget(self.workspace)
        self.form.start_requested.connect(self.start)
        ctx.events.annotations_changed.connect(self._on_annotations_changed)
        last = app_settings.current().last_spec(self.database)
        if last is not None:
            self.form.preset(last)
        self.setFocusProxy(self.form.annotator)  # the first key of the session types the name

    def menu_actions(self) -> list[tuple[str, QAction]]:
        """Entries for the main window's menus (all workspace actions, from the action table)."""
        return [(spec.menu, self.workspace.actions_by_id[spec.id]) for spec in self.workspace.specs]

    def show_form(self) -> None:
        """Back to the start form (choose another identity or queue)."""
        self.form.reload()
        last = app_settings.current().last_spec(self.database)
        if last is not None:
            self.form.preset(last)
        self.setCurrentWidget(self.form)
        self.form.annotator.setFocus()

    def start(self, spec: QueueSpec) -> bool:
        """Open the annotator's session and show the workspace; errors go to the status bar."""
        try:
            self.store = self.store or open_interactive(self.ctx.store)
            self.checkpointer.watch(self.store)
            session = LabellingSession.open(self.store, spec)
        except Exception as exc:  # noqa: BLE001 (shown, never a crash)
            reason = ("the database is busy (another program is writing, e.g. an import): press Enter "
                      "to try again" if isinstance(exc, DatabaseBusy) else exc)  # fmt: skip
            message = f"Could not start labelling as {spec.annotator!r}: {reason}"
            self.form.message.setText(message)
            self.ctx.events.status_message.emit(message)
            self.setCurrentWidget(self.form)
            return False
        app_settings.current().set_last_spec(spec, self.database)
        self.setFocusProxy(None)
        self.setCurrentWidget(self.workspace)
        self.workspace.start(session, annotator=spec.annotator)
        self.ctx.events.status_message.emit(
            f"Labelling as {spec.annotator}: {spec.reference} vs {len(spec.candidates)} model(s)"
            " (File ▸ New labelling session… to change who labels)"
        )
        if pooled_statistics_shown(self.ctx.store):
            QTimer.singleShot(0, lambda: self._load_stats(session, spec))
        else:  # the labeller's own progress stays; everyone's figures and the judge's do not
            self._pending_stats = None
            self.workspace.view.stats.show_unavailable(HIDDEN)
        return True

    def _on_annotations_changed(self, change: object) -> None:
        """Someone else changed labels (payload None = reload, e.g. after an import): refill the start
        form's choices (an empty database may now have models) and rebuild the live statistics."""
        if change is None and self.currentWidget() is self.form:
            self.form.refresh()
        session = self.workspace.session
        if change is None and session is not None and getattr(self, "_pending_stats", None):
            self._load_stats(session, self._pending_stats[1])

    def _load_stats(self, session: LabellingSession, spec: QueueSpec) -> None:
        """Build live statistics after the first paint; their imports run off the GUI thread.

        Only when a coordinator turned pooled statistics on (see :meth:`start`).
        """
        self._pending_stats = (session, spec)
        if "tiebreak.core.labelling.live" in sys.modules:
            self._on_live_imported(sys.modules["tiebreak.core.labelling.live"])
        else:
            import_live_in_background(self, self._on_live_imported)

    def _on_live_imported(self, module: object) -> None:
        session, spec = self._pending_stats
        if self.workspace.session is not session:
            return  # a newer session started meanwhile; it loads its own
        try:
            if isinstance(module, BaseException):
                raise module
            feed = StatsFeed.load(self.ctx.store, spec, session.group)
        except Exception as exc:  # noqa: BLE001 (shown, never a crash)
            self.workspace.view.stats.show_unavailable(f"unavailable: {exc}")
            self.ctx.events.status_message.emit(f"Live statistics unavailable: {exc}")
            return
        self.workspace.set_stats_feed(feed)
