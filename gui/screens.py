"""The registry of screens: (title, "module:Class"); each is built lazily with the AppContext.

Other areas add their screen by appending one entry here (e.g. spot-check's dashboard). A screen
class is called as ``Class(ctx, parent)``; it may define ``menu_actions() -> list[(menu, QAction)]``
to put entries in the main window's menus. An entry that cannot be imported or built becomes a
page showing the error (and the error goes to the status bar); none is skipped silently.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from tiebreak.gui.context import AppContext

SCREENS: list[tuple[str, str]] = [
    ("Labelling", "tiebreak.gui.labelling.screen:LabellingScreen"),
    ("Judge", "tiebreak.gui.judge_panel:JudgePanel"),
    ("Review", "tiebreak.gui.review:ReviewScreen"),
    ("Human vs judge", "tiebreak.gui.dashboard:Dashboard"),
    ("Browse", "tiebreak.gui.browse:BrowseScreen"),
    ("Annotators", "tiebreak.gui.annotators:AnnotatorsScreen"),
    ("Coordinator", "tiebreak.gui.coordinator:CoordinatorScreen"),
    ("Leaderboards", "tiebreak.gui.leaderboards:LeaderboardsScreen"),
]


class ScreenError(Exception):
    """A registry entry could not be imported or built."""


def build_screen(target: str, ctx: AppContext, parent: QWidget | None = None) -> QWidget:
    """Import ``module:Class`` and build it with ``(ctx, parent)``.

    Raises
    ------
    ScreenError
        With the entry and the underlying error (an import error, a missing class, or an
        exception raised by the constructor).
    """
    module_name, _, cls_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
        return cls(ctx, parent)
    except Exception as exc:  # noqa: BLE001 (reported as ScreenError with the entry)
        raise ScreenError(f"screen {target}: {type(exc).__name__}: {exc}") from exc


def error_page(message: str, exc: BaseException | None = None, hint: str = "",
               buttons: Sequence[tuple[str, Callable[[], object]]] = ()) -> QWidget:  # fmt: skip
    """A page that says what went wrong and what to do (details are selectable for a report).

    ``buttons`` are (text, callback) pairs shown under the message (e.g. Open… and New…).
    """
    page = QWidget()
    page.setObjectName("errorPage")
    title = QLabel(message)
    title.setWordWrap(True)
    title.setTextFormat(Qt.TextFormat.PlainText)
    font = title.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.2)
    title.setFont(font)
    detail = "".join(traceback.format_exception(exc)) if exc is not None else ""
    body = QLabel("\n\n".join(t for t in (hint, detail) if t))
    body.setTextFormat(Qt.TextFormat.PlainText)
    body.setWordWrap(True)
    body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    layout = QVBoxLayout(page)
    layout.setContentsMargins(24, 24, 24, 24)
    layout.addWidget(title)
    layout.addWidget(body)
    row = QHBoxLayout()
    for text, callback in buttons:
        button = QPushButton(text)
        button.clicked.connect(lambda _c=False, cb=callback: cb())
        row.addWidget(button)
    row.addStretch(1)
    layout.addLayout(row)
    layout.addStretch(1)
    page.text = lambda: f"{message}\n\n{body.text()}"  # what the page says (tests, copy)
    return page
