"""What every screen receives: the open store, the database path and the app-wide event hub."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal


class Events(QObject):
    """App-wide notifications.

    Signals
    -------
    annotations_changed(object)
        Labels were added or retracted (payload: a change record or None = reload everything).
    status_message(str)
        Text for the main window's status bar (errors included; never a modal crash).
    """

    annotations_changed = Signal(object)
    status_message = Signal(str)


@dataclass
class AppContext:
    """Composition-root state handed to each screen (the GUI thread's store only).

    ``store`` is the open database (a ``tiebreak.core.store.Store``) as an opaque handle: screens
    pass it to core use cases and never touch SQL (an import-linter contract keeps the store out
    of ``gui``).
    """

    store: Any
    db_path: Path | None
    events: Events = field(default_factory=Events)
