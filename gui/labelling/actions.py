"""The ONE declarative action table: keys, menus, buttons and the cheat sheet all come from here.

A screen's actions belong to that screen: :func:`make_actions` binds them to their owner widget,
and they are enabled only while the owner is shown (:class:`ShownOnly`). A key pressed while
another tab, page or menu is in front therefore reaches no hidden screen, whatever has the focus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class ActionSpec:
    """One user action: id, label, keys (first one is printed on the button), menu, button row."""

    id: str
    text: str
    keys: tuple[str, ...]
    menu: str
    button: bool = False
    help: str = ""
    checkable: bool = False

    @property
    def key_label(self) -> str:
        """Keys as printed on buttons and in the cheat sheet (e.g. ``← / 1``)."""
        return " / ".join(_pretty(k) for k in self.keys)


_ARROWS = {"Left": "←", "Right": "→", "Down": "↓", "Up": "↑", "Shift+Down": "Shift+↓"}


def _pretty(key: str) -> str:
    if key in _ARROWS:
        return _ARROWS[key]
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) or key


#: The labelling keymap of docs/labelling.md#keys (plus "can't judge" on C, length badges on L).
LABELLING_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("left", "Left is better", ("Left", "1"), "&Label", True, "the left output is better"),
    ActionSpec("right", "Right is better", ("Right", "2"), "&Label", True, "the right output is better"),
    ActionSpec("tie_good", "Tie, both good", ("Down", "3"), "&Label", True, "a tie: both outputs are good"),
    ActionSpec("tie_bad", "Tie, both bad", ("Shift+Down", "4"), "&Label", True, "a tie: both outputs are bad"),
    ActionSpec("cant_judge", "Can't judge", ("C",), "&Label", True,
               "a terminal answer that counts as missing (e.g. outside your expertise)"),
    ActionSpec("skip", "Skip", ("0", "Space"), "&Label", True, "defer: the item comes back at the end"),
    ActionSpec("flag", "Flag", ("F",), "&Label", True,
               "flag the item for the coordinator (text in the rationale box becomes the note)"),
    ActionSpec("undo", "Undo", ("Backspace", "Ctrl+Z"), "&Edit", True,
               "retract the last decision and return to that item"),
    ActionSpec("redo", "Redo", ("Ctrl+Shift+Z",), "&Edit", False, "redo the last undone decision"),
    ActionSpec("rationale", "Rationale", ("R", "Tab"), "&Edit", True,
               "focus the rationale box; Esc leaves it, Ctrl+Enter keeps the text and leaves"),
    ActionSpec("diff", "Word diff", ("D",), "&View", True, "toggle a word-level diff of the outputs", True),
    ActionSpec("raw", "Raw markdown", ("M",), "&View", True, "toggle rendered / raw markdown", True),
    ActionSpec("lengths", "Length badges", ("L",), "&View", False,
               "show output lengths (off by default: avoids length anchoring)", True),
    ActionSpec("scroll_down", "Scroll down", ("J", "PgDown"), "&View", False, "scroll both outputs down"),
    ActionSpec("scroll_up", "Scroll up", ("K", "PgUp"), "&View", False, "scroll both outputs up"),
    ActionSpec("cheatsheet", "Keyboard shortcuts", ("?", "Shift+?"), "&Help", True,
               "this cheat sheet of every shortcut"),
    ActionSpec("guidelines", "Guidelines", ("H",), "&Help", False, "the task guidelines"),
)  # fmt: skip

#: Window-level actions (main window); listed in the cheat sheet too.
APP_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("new_session", "New labelling session…", ("Ctrl+N",), "&File", False,
               "choose annotator, dataset, reference and candidates"),
    ActionSpec("quit", "Quit", ("Ctrl+Q",), "&File", False, "close the app (window state is kept)"),
    ActionSpec("font_bigger", "Larger text", ("Ctrl++", "Ctrl+="), "&View", False, "increase the font size"),
    ActionSpec("font_smaller", "Smaller text", ("Ctrl+-",), "&View", False, "decrease the font size"),
    ActionSpec("font_reset", "Default text size", ("Ctrl+0",), "&View", False, "reset the font size"),
)  # fmt: skip


def make_actions(
    specs: Iterable[ActionSpec],
    parent: QWidget,
    handler: Callable[[str], None],
    context: Qt.ShortcutContext = Qt.ShortcutContext.WidgetWithChildrenShortcut,
) -> dict[str, QAction]:
    """Create one QAction per spec on ``parent`` (auto-repeat off) that calls ``handler(id)``.

    With the default (screen) context the actions are enabled only while ``parent`` is shown.
    """
    actions: dict[str, QAction] = {}
    for spec in specs:
        action = QAction(spec.text, parent)
        action.setShortcuts([QKeySequence(k) for k in spec.keys])
        action.setShortcutContext(context)
        action.setAutoRepeat(False)  # a held key records one label
        action.setCheckable(spec.checkable)
        action.setToolTip(f"{spec.text} ({spec.key_label}): {spec.help}")
        action.setStatusTip(spec.help)
        action.triggered.connect(lambda _checked=False, i=spec.id: handler(i))
        parent.addAction(action)
        actions[spec.id] = action
    if context != Qt.ShortcutContext.WindowShortcut:
        ShownOnly(parent, actions.values())
    return actions


class ShownOnly(QObject):
    """Keeps a screen's actions enabled exactly while the screen (``owner``) is shown.

    A hidden tab, a stacked page that is not in front or a closed window gets Hide events; its
    actions are then disabled, so neither a key (through a menu entry or a stale focus) nor a
    menu click can act on a screen the user does not see.
    """

    def __init__(self, owner: QWidget, actions: Iterable[QAction]) -> None:
        super().__init__(owner)
        self.actions = list(actions)
        owner.installEventFilter(self)
        self._set(owner.isVisible())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Follow the owner's Show and Hide events."""
        if event.type() == QEvent.Type.Show:
            self._set(True)
        elif event.type() == QEvent.Type.Hide:
            self._set(False)
        return False

    def _set(self, shown: bool) -> None:
        for action in self.actions:
            action.setEnabled(shown)
