"""The Annotators screen: renders the crowd figures with flags and refreshes on label changes."""

from __future__ import annotations

import pytest

from tests.core.test_crowd import simulate_crowd
from tests.gui.test_screenshots import assert_not_blank, save
from tiebreak.core.crowd.quality import TOO_FEW_NOTE
from tiebreak.gui.annotators import FAST_COLOR, FEW_COLOR, AnnotatorsScreen
from tiebreak.gui.context import AppContext


@pytest.fixture
def crowd(store):
    """4 simulated annotators on 16 items; humans/2 keeps only 6 live labels (too few shared)."""
    cids = simulate_crowd(store, n_items=16)
    frame = store.annotations_frame(groups=["humans"], with_texts=False)
    mine = frame[frame["annotator_name"] == "humans/2"]["annotation_id"].tolist()
    for aid in mine[6:]:
        with store.transaction() as tx:
            tx.retract_annotation(aid)
    return AppContext(store=store, db_path=None), cids


def _column(screen, header):
    headers = [screen.table.horizontalHeaderItem(c).text() for c in range(screen.table.columnCount())]
    c = headers.index(header)
    return [screen.table.item(r, c).text() for r in range(screen.table.rowCount())]


def test_renders_flags_and_screenshot(crowd, qtbot, tmp_path):
    ctx, _ = crowd
    screen = AnnotatorsScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1100, 520)
    screen.show()
    qtbot.waitExposed(screen)
    assert screen.group.currentText() == "humans"
    assert _column(screen, "Annotator") == ["humans/0", "humans/1", "humans/2", "humans/3"]
    flags = _column(screen, "Flags")
    assert flags[0] == "" and "too fast" in flags[3] and TOO_FEW_NOTE in flags[2]
    assert screen.table.item(3, 0).background().color() == FAST_COLOR
    assert screen.table.item(2, 0).background().color() == FEW_COLOR
    # items whose humans/2 label was retracted have 3 labels; target 4 -> 10 under-annotated
    screen.overlap.setValue(4)
    assert screen.under_annotated_count() == 10
    assert "Under-annotated items: 10 of 16 below 4 label(s)" in screen.summary.text()
    assert_not_blank(save(screen, tmp_path, "annotators"))


def test_refreshes_on_annotations_changed(crowd, qtbot):
    ctx, cids = crowd
    screen = AnnotatorsScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    assert screen.under_annotated_count() == 0  # target 3: every item has 3 or 4 labels
    frame = ctx.store.annotations_frame(groups=["humans"], with_texts=False)
    first = frame[frame["comparison_id"] == cids[0]]["annotation_id"].tolist()
    for aid in first[:2]:
        with ctx.store.transaction() as tx:
            tx.retract_annotation(aid)
    with qtbot.waitSignal(ctx.events.annotations_changed):
        ctx.events.annotations_changed.emit(None)
    assert screen.under_annotated_count() == 1
    assert "Under-annotated items: 1 of 16" in screen.summary.text()
    # while hidden, a change only marks the screen stale; showing it catches up
    screen.hide()
    second = frame[frame["comparison_id"] == cids[1]]["annotation_id"].tolist()
    for aid in second[:2]:
        with ctx.store.transaction() as tx:
            tx.retract_annotation(aid)
    ctx.events.annotations_changed.emit(None)
    assert screen.under_annotated_count() == 1
    screen.show()
    qtbot.waitExposed(screen)
    assert screen.under_annotated_count() == 2 and "2 of 16 below 3" in screen.summary.text()
    # target 4: the 10 items that lost humans/2's label (3 left) and the 2 above
    screen.overlap.setValue(4)
    assert screen.under_annotated_count() == 12


def test_group_selector_and_empty_database(store, qtbot):
    ctx = AppContext(store=store, db_path=None)
    screen = AnnotatorsScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    assert screen.group.count() == 0 and screen.table.rowCount() == 0
    assert "No human annotator group" in screen.summary.text()
    simulate_crowd(store, n_items=12, group="crowd")
    simulate_crowd(store, n_items=12, group="experts", accuracies=(0.9, 0.9, 0.9, 0.9))
    ctx.events.annotations_changed.emit(None)
    assert [screen.group.itemText(i) for i in range(screen.group.count())] == ["crowd", "experts"]
    screen.group.setCurrentText("experts")
    assert _column(screen, "Annotator") == ["experts/0", "experts/1", "experts/2", "experts/3"]
    assert "4 annotator(s) in experts" in screen.summary.text()


def test_registered_in_the_screen_registry(crowd, qtbot):
    from tiebreak.gui import screens

    assert ("Annotators", "tiebreak.gui.annotators:AnnotatorsScreen") in screens.SCREENS
    screen = screens.build_screen("tiebreak.gui.annotators:AnnotatorsScreen", crowd[0])
    qtbot.addWidget(screen)
    assert isinstance(screen, AnnotatorsScreen) and screen.table.rowCount() == 4
