"""The one way imported text reaches a label or a tooltip: always as plain text, never as markup."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGui
from PySide6.QtWidgets import QLabel, QWidget

from tiebreak.core.text_safety import display_name

__all__ = ["display_name", "escape", "plain_label", "plain_tooltip", "make_plain"]


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that shows ``text`` literally (``<font>`` stays ``<font>``, no image ever loads).

    Parameters
    ----------
    text : str
        Initial text.
    parent : QWidget, optional

    Returns
    -------
    QLabel
        With ``Qt.PlainText`` format, so later ``setText`` calls are plain too.
    """
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def make_plain(*labels: QLabel) -> None:
    """Switch existing labels to plain text (for labels built elsewhere, e.g. in a form)."""
    for label in labels:
        label.setTextFormat(Qt.TextFormat.PlainText)


def escape(text: object) -> str:
    """``text`` escaped for the inside of a rich-text (HTML) string we compose ourselves."""
    return html.escape(str(text), quote=True)


def plain_tooltip(text: str) -> str:
    """A tooltip string that Qt shows literally (tooltips guess rich text; this one is escaped)."""
    return QtGui.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal)
