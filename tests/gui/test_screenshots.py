"""Screenshots of the main states (labelling, after a vote, empty queue, error), not blank."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from tests.gui._data import CANDIDATES, REFERENCE, fill_store
from tiebreak.core.identity import show_pooled_statistics
from tiebreak.core.labelling.session import QueueSpec
from tiebreak.gui.context import AppContext

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"  # gitignored

INSTRUCTION_OUTPUTS = {
    (0, REFERENCE): "Use a **list comprehension**:\n\n```python\nsquares = [x * x for x in range(10)]\n```\n\n"
                    "It is shorter than a loop and just as fast.",
    (0, "cand-a"): "You can write a loop:\n\n1. create an empty list\n2. append `x * x` for each x\n\n"
                   "```python\nsquares = []\nfor x in range(10):\n    squares.append(x * x)\n```\n\n"
                   "> Tip: `map` works too.",
}


def save(widget, tmp_path, name) -> QImage:
    for _ in range(3):  # let pending layout requests settle
        QApplication.processEvents()
    image = widget.grab().toImage()
    path = tmp_path / f"{name}.png"
    assert image.save(str(path))
    SHOTS.mkdir(exist_ok=True)
    shutil.copy(path, SHOTS / path.name)
    return image


def assert_not_blank(image: QImage) -> None:
    """More than one colour, and more than 1% of the pixels differ from the commonest one."""
    assert image.width() > 600 and image.height() > 400
    small = image.scaled(300, 200)
    pixels = [small.pixel(x, y) for x in range(small.width()) for y in range(small.height())]
    background = Counter(pixels).most_common(1)[0][0]
    other = sum(p != background for p in pixels)
    assert other > 0.01 * len(pixels), f"only {other} of {len(pixels)} pixels differ: blank?"


@pytest.fixture
def filled(store):
    fill_store(store, 3, outputs=INSTRUCTION_OUTPUTS)
    show_pooled_statistics(store, True)
    return AppContext(store=store, db_path=None)


def start(window):
    screen = window.screen(0)
    assert screen.start(QueueSpec("alice", REFERENCE, CANDIDATES))
    ws = screen.workspace
    ws.setFocus()
    return ws


def test_screenshot_labelling_and_after_vote(filled, make_window, qtbot, tmp_path):
    window = make_window(filled)
    ws = start(window)
    qtbot.waitUntil(lambda: ws.stats_feed is not None)
    assert_not_blank(save(window, tmp_path, "labelling"))
    shown = ws.session.current()
    qtbot.keyClick(ws, Qt.Key.Key_Left)
    assert shown.left_generator in ws.view.reveal.text()
    assert_not_blank(save(window, tmp_path, "after_vote_revealed"))


def test_screenshot_start_form_and_empty_queue(filled, make_window, qtbot, tmp_path):
    window = make_window(filled)
    screen = window.screen(0)
    screen.show_form()
    assert_not_blank(save(window, tmp_path, "start_form"))
    ws = start(window)
    qtbot.waitUntil(lambda: ws.stats_feed is not None)
    while ws.session.current() is not None:
        qtbot.keyClick(ws, Qt.Key.Key_Down)
    assert "Queue finished" in ws.view.empty.text()
    assert_not_blank(save(window, tmp_path, "empty_queue"))
    qtbot.keyClick(ws, Qt.Key.Key_Backspace)  # undo from the finished page returns to the item
    assert ws.session.current() is not None and ws.view.pages.currentIndex() == ws.view.PAGE_ITEM


def test_screenshot_error_states(filled, make_window, tmp_path):
    window = make_window(None, error="Could not open the database /nowhere/x.sqlite: disk I/O error")
    assert "Could not open" in window.statusBar().currentMessage()
    assert_not_blank(save(window, tmp_path, "error_database"))
    broken = make_window(filled, screens=[("Labelling", "tiebreak.gui.labelling.screen:LabellingScreen"),
                                          ("Broken", "tiebreak.gui.no_such_module:Screen")])
    broken.tabs.setCurrentIndex(1)
    assert "tiebreak.gui.no_such_module" in broken.statusBar().currentMessage()
    assert "ModuleNotFoundError" in broken.tabs.widget(1).text()
    assert_not_blank(save(broken, tmp_path, "error_screen"))


def test_screenshot_untrusted_outputs(store, make_window, qtbot, tmp_path):
    hostile = ('<script>alert("x")</script> <img src="http://127.0.0.1:9/a.png">\n\n'
               "![remote](http://127.0.0.1:9/b.png)\n\nשלום עולם, مرحبا بالعالم 👋🏽🎉\n\n"
               "```python\ndef f():\n    return '<no closing fence>'")  # fmt: skip
    huge = ("A long line of generated text. " * 30 + "\n") * 2500
    fill_store(store, 1, candidates=("cand-a",), judge=None,
               outputs={(0, "cand-a"): hostile, (0, REFERENCE): huge})
    window = make_window(AppContext(store=store, db_path=None))
    screen = window.screen(0)
    assert screen.start(QueueSpec("alice", REFERENCE, ("cand-a",)))
    image = save(window, tmp_path, "untrusted_outputs")
    assert_not_blank(image)
    notices = screen.workspace.view.left.notice.text() + screen.workspace.view.right.notice.text()
    assert "not loaded" in notices and "Show all" in notices  # the huge one is capped until asked
