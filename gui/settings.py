"""Persistent user settings (QSettings): window geometry and state, font size, last session, recent files."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from tiebreak.core.labelling.session import QueueSpec, SessionError

DEFAULT_FONT_PT = 10
FONT_RANGE = (6, 32)
RECENT_MAX = 8


class Settings:
    """Typed access to the app's QSettings (an INI file in tests, the platform store otherwise)."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self.q = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "tiebreak", "tiebreak")
        else:
            self.q = QSettings(str(path), QSettings.Format.IniFormat)

    # -- window ---------------------------------------------------------------------------------
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """Saved (geometry, state) of the main window, or None each."""
        geometry, state = self.q.value("window/geometry"), self.q.value("window/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)  # fmt: skip

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember geometry and dock/toolbar state."""
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)
        self.q.sync()

    # -- font -----------------------------------------------------------------------------------
    def font_size(self) -> int:
        """Point size of the app font."""
        try:
            size = int(self.q.value("view/font_pt", DEFAULT_FONT_PT))
        except (TypeError, ValueError):
            size = DEFAULT_FONT_PT
        return min(max(size, FONT_RANGE[0]), FONT_RANGE[1])

    def set_font_size(self, size: int) -> int:
        """Store a point size (clamped to FONT_RANGE) and return what was stored."""
        size = min(max(int(size), FONT_RANGE[0]), FONT_RANGE[1])
        self.q.setValue("view/font_pt", size)
        return size

    # -- recent databases -------------------------------------------------------------------------
    def recent_databases(self) -> list[str]:
        """Databases opened or created from the app, most recent first (at most RECENT_MAX)."""
        value = self.q.value("files/recent")
        try:
            items = json.loads(str(value)) if value else []
        except ValueError:
            return []
        return [str(p) for p in items if isinstance(p, str)][:RECENT_MAX]

    def add_recent_database(self, path: str | Path) -> list[str]:
        """Put ``path`` first in the recent databases; return the new list."""
        name = str(Path(path).resolve())
        items = [name, *(p for p in self.recent_databases() if p != name)][:RECENT_MAX]
        self.q.setValue("files/recent", json.dumps(items))
        self.q.sync()
        return items

    # -- review choices (per database) ------------------------------------------------------------
    def review_choice(self, database: str) -> dict[str, str] | None:
        """Reviewer, judge, audit stream and items last used in the database ``database`` (or None)."""
        text = self.q.value(f"review/choice/{database}")
        try:
            data = json.loads(str(text)) if text else None
        except ValueError:
            return None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None

    def set_review_choice(self, database: str, choice: dict[str, str]) -> None:
        """Remember the Review form's choices for the database ``database``."""
        self.q.setValue(f"review/choice/{database}", json.dumps(choice))
        self.q.sync()

    # -- last labelling session (per database) ---------------------------------------------------
    def last_spec(self, database: str) -> QueueSpec | None:
        """The queue last labelled in the database with id ``database``, or None (none, unreadable).

        Never another database's: a new database starts with no name prefilled.
        """
        text = self.q.value(f"labelling/last_spec/{database}")
        if not text:
            return None
        try:
            data = json.loads(str(text))
            return QueueSpec(data["annotator"], data["reference"], tuple(data["candidates"]),
                             data.get("dataset"), int(data.get("seed", 0)))  # fmt: skip
        except (ValueError, KeyError, TypeError, SessionError):
            return None

    def set_last_spec(self, spec: QueueSpec, database: str) -> None:
        """Remember the queue of the database with id ``database`` (the next launch offers it)."""
        self.q.setValue(f"labelling/last_spec/{database}", json.dumps({
            "annotator": spec.annotator, "reference": spec.reference,
            "candidates": list(spec.candidates), "dataset": spec.dataset, "seed": spec.seed,
        }))  # fmt: skip
        self.q.sync()


_current: Settings | None = None


def current() -> Settings:
    """The app's Settings (the platform store unless :func:`install` chose another)."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def install(settings: Settings) -> None:
    """Use ``settings`` app-wide (tests install an INI file under tmp_path)."""
    global _current
    _current = settings
