"""Unsent rationale drafts: each belongs to one (annotator, item) and never travels to another."""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtWidgets import QPlainTextEdit


class Drafts:
    """Keeps the rationale box's text with the item it was typed for.

    When the item on screen changes (skip, undo, another annotator), the text typed so far is
    put aside under the old (annotator, item) key and the box shows the new key's draft (usually
    nothing). :meth:`clear` forgets every draft (a new identity).
    """

    def __init__(self, box: QPlainTextEdit) -> None:
        self.box = box
        self.key: Hashable | None = None
        self._kept: dict[Hashable, str] = {}

    def switch(self, key: Hashable | None) -> None:
        """The box now belongs to ``key`` (None: no item on screen)."""
        if key == self.key:
            return
        text = self.box.toPlainText()
        if self.key is not None and text.strip():
            self._kept[self.key] = text
        self.key = key
        restored = self._kept.pop(key, "") if key is not None else ""
        if restored != text:
            blocked = self.box.blockSignals(True)  # not an input: the active-time clock is untouched
            self.box.setPlainText(restored)
            self.box.blockSignals(blocked)

    def clear(self) -> None:
        """Forget every draft and empty the box (the identity changed)."""
        self._kept.clear()
        self.key = None
        blocked = self.box.blockSignals(True)
        self.box.clear()
        self.box.blockSignals(blocked)

    def __len__(self) -> int:
        return len(self._kept)
