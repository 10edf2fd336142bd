"""Browse: search, disagreement / flagged / dataset filters, the sortable list, go to, flags and reviews shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui._data import fill_store
from tiebreak.core.labelling import sql as labelling_sql
from tiebreak.core.review import sql as review_sql
from tiebreak.gui.context import AppContext

SHOTS = Path("/tmp/shots/app")


@pytest.fixture
def screen(qtbot, store):
    from tiebreak.gui.browse import BrowseScreen

    ids = fill_store(store, 3)  # judge-x: candidate better on even ids
    with store.transaction() as tx:
        human = tx.annotator_id("alice", "human", group="humans")
        judge_side = 2.0 if ids[1] % 2 == 0 else 1.0
        blind = tx.add_annotation(comparison_id=ids[1], annotator_id=human, preference=3.0 - judge_side)
        tx.add_annotation(comparison_id=ids[0], annotator_id=human, preference=2.0 if ids[0] % 2 == 0 else 1.0)
        labelling_sql.add_flag(tx, comparison_id=ids[3], annotator_id=human, session_id=None, note="garbled")
        rid = review_sql.record_reveal(tx, comparison_id=ids[1], annotator_id=human, blind_annotation_id=blind,
                                       judge_group="judge-x", judge_preference=judge_side, judge_confidence=None)
        review_sql.record_action(tx, rid, action="override", final_preference=3.0 - judge_side,
                                 final_choice=None, reason="factual error", reason_text=None)
    widget = BrowseScreen(AppContext(store=store, db_path=None))
    qtbot.addWidget(widget)
    widget.resize(1024, 640)
    widget.show()
    qtbot.waitExposed(widget)
    widget.ids = ids
    return widget


def listed(screen):
    from PySide6.QtCore import QCoreApplication

    while screen.list_loading:  # the list loads on the next event-loop turn (in-memory database)
        QCoreApplication.processEvents()
    return [r["comparison_id"] for r in screen.list.list_model.rows]


def test_disagreements_show_the_review_and_list_follows(screen, qtbot):
    assert len(listed(screen)) == 6
    screen.filters.disagreements.setChecked(True)
    assert screen.cursor.ids == [screen.ids[1]] and listed(screen) == [screen.ids[1]]
    text = screen.marks.text()
    assert "Review: alice overrode judge-x" in text and "factual error" in text
    screen.filters.disagreements.setChecked(False)
    screen.filters.flagged.setChecked(True)
    assert screen.cursor.ids == [screen.ids[3]] and "⚑ flagged by alice: garbled" in screen.marks.text()


def test_search_dataset_sort_click_and_go_to(screen, qtbot):
    screen.filters.search.setText("topic 2")
    qtbot.waitUntil(lambda: screen.cursor.total == 2)
    assert screen.cursor.ids == screen.ids[4:6]
    screen.filters.search.clear()
    qtbot.waitUntil(lambda: screen.cursor.total == 6)
    screen.filters.dataset.setCurrentText("helpful_base")
    assert screen.cursor.total == 6
    listed(screen)  # loaded
    screen.list.sortByColumn(0, screen.list.horizontalHeader().sortIndicatorOrder().DescendingOrder)
    assert listed(screen)[0] == screen.ids[5]
    with qtbot.waitSignal(screen.item_shown) as shown:
        screen.list.picked.emit(screen.ids[4])
    assert shown.args == [screen.ids[4]] and screen.position.text() == "5 / 6"
    screen.go_to(2)
    assert screen.position.text() == "2 / 6"
    with qtbot.waitSignal(screen.ctx.events.status_message) as msg:
        screen.go_to(9)
    assert "outside 1..6" in msg.args[0] and screen.position.text() == "2 / 6"


def test_browse_request_from_a_plot(screen):
    screen.apply_browse({"generator": "cand-a", "group": "humans"})
    assert screen.generator.currentText() == "cand-a" and screen.group.currentText() == "humans"
    assert all(screen.ctx.store.pair(c).generator_2 == "cand-a" for c in screen.cursor.ids)
    assert screen.cursor.ids and set(screen.cursor.ids) <= {screen.ids[0], screen.ids[1]}


def test_screenshots(screen, qtbot):
    SHOTS.mkdir(parents=True, exist_ok=True)
    screen.filters.disagreements.setChecked(True)
    for w, h in ((1024, 640), (2560, 1440)):
        screen.resize(w, h)
        qtbot.wait(50)
        assert screen.grab().save(str(SHOTS / f"browse-{w}x{h}.png"))
