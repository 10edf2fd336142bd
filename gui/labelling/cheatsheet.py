"""The `?` cheat sheet and the `h` guidelines, generated from the action table (never by hand)."""

from __future__ import annotations

import html
from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from tiebreak.gui.labelling.actions import ActionSpec

GUIDELINES = """\
<h3>Task guidelines</h3>
<p>Read the instruction, then both outputs. Choose the output that better follows the instruction:
helpful, correct, honest and harmless. Judge content, not length or position; the sides are
randomised and the model names are hidden until you have voted.</p>
<ul>
<li><b>Tie, both good</b>: both answer well and you cannot prefer one.</li>
<li><b>Tie, both bad</b>: neither is acceptable.</li>
<li><b>Can't judge</b>: you lack the knowledge to decide (a final answer, counted as missing).</li>
<li><b>Skip</b>: decide later; the item comes back at the end of your queue.</li>
<li><b>Flag</b>: something is wrong with the item itself (broken text, offensive content).</li>
</ul>
<p>Undo returns to the item you last decided; nothing is ever deleted.</p>
"""


def cheatsheet_html(specs: Iterable[ActionSpec]) -> str:
    """An HTML table with one row per action: keys, name, what it does."""
    rows = "".join(
        f"<tr><td><b>{html.escape(s.key_label)}</b></td><td>{html.escape(s.text)}</td>"
        f"<td>{html.escape(s.help)}</td></tr>"
        for s in specs
    )
    return (
        "<h3>Keyboard shortcuts</h3><table cellspacing='0' cellpadding='4'>"
        f"<tr><th align='left'>keys</th><th align='left'>action</th><th align='left'>"
        f"what it does</th></tr>{rows}</table>"
    )


class TextDialog(QDialog):
    """A small non-modal dialog showing trusted, generated HTML (cheat sheet, guidelines)."""

    def __init__(self, title: str, body_html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setHtml(body_html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(640, 560)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
