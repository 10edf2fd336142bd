"""Imported names that are HTML, bidi overrides or zero-width tricks are shown literally on every screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGui
from PySide6.QtWidgets import QApplication, QLabel, QTableWidget, QWidget

from tiebreak.core.review.audit import sample_audit
from tiebreak.gui import screens
from tiebreak.gui.context import AppContext
from tiebreak.gui.safe_text import plain_tooltip

MARKUP = "<font size=6 color=green>VERIFIED BY 3 HUMANS</font>"
IMAGE = "<img src='/etc/hostile.png'>"
JUDGE = f"{MARKUP}{IMAGE}"
MODELS = (f"<b>model</b>{IMAGE}", "gpt\u202eevil\u202c-4")  # HTML and a right-to-left override
HUMANS = "<i>crowd</i>"
DATASET = "<h1>dataset</h1>"


def hostile_store(store) -> None:
    """A judge, two candidates, a reference, a dataset and a human group with hostile names."""
    with store.transaction() as tx:
        judge = tx.annotator_id(JUDGE, "judge")
        human = tx.annotator_id(f"{HUMANS}/0", "human", group=HUMANS, member="0")
        for i in range(6):
            iid = tx.instruction_id(f"instruction {i} {MARKUP}", dataset=DATASET)
            ref = tx.output_id(iid, "<u>reference</u>", f"reference {i}")
            for model in MODELS:
                cid = tx.comparison_id(iid, ref, tx.output_id(iid, model, f"{model} answer {i}"))
                tx.add_annotation(comparison_id=cid, annotator_id=judge, preference=1.2 + 0.1 * i,
                                  source="import", rationale=f"because {MARKUP}")  # fmt: skip
                tx.add_annotation(comparison_id=cid, annotator_id=human, preference=2.0, source="import")


def rendered_markup(root: QWidget) -> list[str]:
    """Labels under ``root`` that would render one of our hostile names as rich text."""
    bad = []
    for label in root.findChildren(QLabel):
        text, fmt = label.text(), label.textFormat()
        rich = fmt == Qt.TextFormat.RichText or (fmt == Qt.TextFormat.AutoText and QtGui.mightBeRichText(text))
        if rich and any(raw in text for raw in (MARKUP, IMAGE, HUMANS, DATASET, "<b>model</b>")):
            bad.append(f"{label.objectName() or type(label.parent()).__name__}: {text[:80]!r}")
    for table in root.findChildren(QTableWidget):
        for r in range(table.rowCount()):
            for c in range(table.columnCount()):
                item = table.item(r, c)
                tip = item.toolTip() if item is not None else ""
                if tip and QtGui.mightBeRichText(tip) and any(raw in tip for raw in (MARKUP, IMAGE)):
                    bad.append(f"tooltip {tip[:80]!r}")
    return bad


@pytest.fixture
def hostile_ctx(store):
    hostile_store(store)
    return AppContext(store=store, db_path=None)


def test_every_screen_shows_hostile_names_as_plain_text(hostile_ctx, make_window, qtbot):
    window = make_window(hostile_ctx, screens=screens.SCREENS)
    for index in range(len(screens.SCREENS)):
        window.tabs.setCurrentIndex(index)
        qtbot.waitUntil(lambda i=index: window.screen(i) is not None, timeout=60_000)  # imported off the GUI thread
        qtbot.wait(30)
    dashboard = window.screen([t for t, _ in screens.SCREENS].index("Human vs judge"))
    for combo, name in ((dashboard.judge, JUDGE), (dashboard.humans, HUMANS)):
        found = combo.findText(name)
        if found >= 0:
            combo.setCurrentIndex(found)
    qtbot.wait(300)
    QApplication.processEvents()
    assert rendered_markup(window) == []


def test_review_verdict_names_the_judge_literally(store, qtbot, settings):
    from tiebreak.gui.review import ReviewScreen

    hostile_store(store)
    sample_audit(store, JUDGE, 4, "uniform", seed=3)
    screen = ReviewScreen(AppContext(store=store, db_path=None))
    qtbot.addWidget(screen)
    screen.resize(1300, 850)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is screen)
    screen.form.reviewer.setText("alice")
    screen.start()
    ws = screen.workspace
    ws.setFocus()
    qtbot.keyClick(ws, Qt.Key.Key_1)  # blind vote, then the verdict is revealed
    assert ws.panel.isVisible(), screen.form.message.text()
    verdict = ws.panel.verdict
    assert MARKUP in verdict.text()  # the name as written, every character of it
    assert verdict.textFormat() == Qt.TextFormat.PlainText
    assert rendered_markup(screen) == []
    headers = ws.view.left.header.text() + ws.view.right.header.text() + ws.view.reveal.text()
    assert "gpt\\u202eevil\\u202c-4" in headers  # the override is shown, so it reverses nothing
    assert "\u202e" not in headers


def test_plain_tooltip_is_escaped_rich_text():
    tip = plain_tooltip(JUDGE)
    assert MARKUP not in tip and "&lt;font size=6" in tip
