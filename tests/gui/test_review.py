"""Review mode in the labelling workspace: blind -> reveal -> accept / override, both decisions stored."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.core.test_spotcheck_audit import build_spotcheck_store
from tiebreak.core.review import sql as rs
from tiebreak.core.review.audit import sample_audit


@pytest.fixture
def review_screen(store, qtbot, settings):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.review import ReviewScreen

    build_spotcheck_store(store, n_instructions=6)
    sample_audit(store, "gpt4_judge", 4, "uniform", seed=11)
    ctx = AppContext(store=store, db_path=None)
    screen = ReviewScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1300, 850)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    screen.form.reviewer.setText("alice")
    screen.start()
    screen.workspace.setFocus()
    return screen


def test_blind_reveal_override_stores_both_decisions(review_screen, qtbot, store, tmp_path):
    ws = review_screen.workspace
    shown = ws.session.current()
    assert not ws.panel.isVisible()  # blind: no verdict on screen
    qtbot.keyClick(ws, Qt.Key.Key_1)  # blind: left is better
    sample = rs.samples(store, "gpt4_judge/audit", "random").set_index("comparison_id")
    assert isinstance(sample.loc[shown.pair.comparison_id, "shown_at"], str)  # stored with the vote
    assert ws.holding is not None and ws.panel.isVisible()
    assert "gpt4_judge" in ws.panel.verdict.text() and "because" in ws.panel.rationale.toPlainText()
    assert review_screen.grab().save(str(tmp_path / "review_reveal.png"))
    qtbot.keyClick(ws, Qt.Key.Key_E)
    qtbot.keyClick(ws, Qt.Key.Key_E)  # reason: factual error
    assert ws.panel.reason.currentText() == "factual error"
    qtbot.keyClick(ws, Qt.Key.Key_X)
    assert "Override" in ws.panel.prompt.text()
    qtbot.keyClick(ws, Qt.Key.Key_2)  # override verdict: right is better
    rows = rs.review_rows(store)
    assert len(rows) == 1
    r = rows.iloc[0]
    assert r["comparison_id"] == shown.pair.comparison_id
    assert (r["blind_choice"], r["blind_preference"]) == ("left", 2.0 if shown.swapped else 1.0)
    assert (r["action"], r["final_choice"], r["reason"]) == ("override", "right", "factual error")
    assert r["final_preference"] == (1.0 if shown.swapped else 2.0)
    assert ws.holding is None and not ws.panel.isVisible()
    assert ws.session.current().pair.comparison_id != shown.pair.comparison_id  # moved on


def test_accept_and_keys_inactive_before_reveal(review_screen, qtbot, store):
    ws = review_screen.workspace
    messages = []
    ws.ctx.events.status_message.connect(messages.append)
    qtbot.keyClick(ws, Qt.Key.Key_A)  # nothing revealed yet
    assert rs.review_rows(store).empty and any("decide first" in m for m in messages)
    qtbot.keyClick(ws, Qt.Key.Key_Down)  # blind tie
    qtbot.keyClick(ws, Qt.Key.Key_1)  # vote keys are inactive while the verdict is shown
    assert len(store.annotations_frame(sources=["review"], with_texts=False)) == 1
    qtbot.keyClick(ws, Qt.Key.Key_A)
    r = rs.review_rows(store).iloc[0]
    assert (r["blind_choice"], r["action"]) == ("tie_good", "accept")
    assert r["final_preference"] == pytest.approx(r["judge_preference"])


def test_undo_after_reveal_retracts_blind_vote_and_review(review_screen, qtbot, store):
    ws = review_screen.workspace
    first = ws.session.current().pair.comparison_id
    qtbot.keyClick(ws, Qt.Key.Key_2)
    assert ws.panel.isVisible()
    qtbot.keyClick(ws, Qt.Key.Key_Backspace)
    assert not ws.panel.isVisible() and ws.holding is None
    assert ws.session.current().pair.comparison_id == first
    assert rs.review_rows(store).empty
    assert store.annotations_frame(sources=["review"], with_texts=False).empty


def test_form_draws_picks_adhoc_and_estimates(store, qtbot, settings):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.review import ReviewScreen

    build_spotcheck_store(store, n_instructions=10, humans=5)
    screen = ReviewScreen(AppContext(store=store, db_path=None))
    qtbot.addWidget(screen)
    form = screen.form
    assert form.judge.currentText() == "gpt4_judge" and form.audit.currentText() == "gpt4_judge/audit"
    form.design.setCurrentText("stratified")
    form.n.setValue(6)
    form.draw_button.click()
    assert "Drew 6 new item(s)" in form.message.text()
    assert len(rs.samples(store, "gpt4_judge/audit", "random")) == 6
    form.model.setCurrentText("model-a")
    form.dataset.setCurrentText("koala")
    form.adhoc_n.setValue(3)
    form.adhoc_button.click()
    adhoc = rs.samples(store, "gpt4_judge/audit", "adhoc")
    assert len(adhoc) == 3 and adhoc["picked_by"].str.contains("model-a").all()
    form.audit.setCurrentText("humans")
    form.estimates.button.click()
    table = form.estimates.table
    assert table.rowCount() == 10  # 2 models x 5 methods
    assert "UNIFORM" in form.estimates.warnings.text()
    form.audit.setCurrentText("nobody")
    form.estimates.button.click()
    assert "neither an audit stream" in form.message.text()  # an error is shown, not raised


def test_export_reviewed_items_from_the_screen(review_screen, qtbot, store, tmp_path):
    import json

    ws = review_screen.workspace
    qtbot.keyClick(ws, Qt.Key.Key_1)
    qtbot.keyClick(ws, Qt.Key.Key_X)
    qtbot.keyClick(ws, Qt.Key.Key_3)
    review_screen.show_form()
    out = tmp_path / "reviews.json"
    assert "Exported 1 reviewed item" in review_screen.export_reviews(str(out), "alpaca")
    rec = json.loads(out.read_text())[0]
    assert rec["preference"] == 1.5 and rec["review_action"] == "override" and rec["annotator"] == "reviewers"


def test_review_and_dashboard_tabs_build_in_the_main_window(store, make_window, qtbot):
    from tiebreak.gui import screens as registry
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.dashboard import Dashboard
    from tiebreak.gui.review import ReviewScreen

    build_spotcheck_store(store, n_instructions=4, humans=4)
    window = make_window(AppContext(store=store, db_path=None), screens=registry.SCREENS)
    titles = [t for t, _ in registry.SCREENS]
    for cls, title in ((ReviewScreen, "Review"), (Dashboard, "Human vs judge")):
        window.tabs.setCurrentIndex(titles.index(title))
        assert isinstance(window.tabs.currentWidget(), cls)
    dash = window.tabs.currentWidget()
    qtbot.waitUntil(lambda: dash.result is not None, timeout=10000)  # computed off the GUI thread once shown
    assert dash.result.n_overlap == 8


def test_undo_walks_back_through_decided_revealed_blind_and_redo_forward(review_screen, qtbot, store):
    ws = review_screen.workspace
    first = ws.session.current().pair.comparison_id
    qtbot.keyClick(ws, Qt.Key.Key_Down)  # blind tie
    qtbot.keyClick(ws, Qt.Key.Key_A)  # accept
    second = ws.session.current().pair.comparison_id
    assert second != first and ws.holding is None
    qtbot.keyClick(ws, Qt.Key.Key_Backspace)  # decided -> revealed: the verdict is back on screen
    assert ws.holding is not None and ws.panel.isVisible() and ws.session.current().pair.comparison_id == first
    assert rs.review_rows(store)["action"].isna().all() and len(rs.review_rows(store)) == 1
    qtbot.keyClick(ws, Qt.Key.Key_Backspace)  # revealed -> blind
    assert rs.review_rows(store).empty and ws.holding is None and not ws.panel.isVisible()
    assert ws.session.current().pair.comparison_id == first
    redo = (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(ws, *redo)  # blind -> revealed
    assert ws.holding is not None and ws.panel.isVisible()
    qtbot.keyClick(ws, *redo)  # revealed -> decided: the accept is stored again, the next item is shown
    after = rs.review_rows(store)
    assert (after["blind_choice"].iloc[0], after["action"].iloc[0]) == ("tie_good", "accept") and len(after) == 1
    assert ws.holding is None and not ws.panel.isVisible()
    assert ws.session.current().pair.comparison_id == second


def test_redo_of_a_blind_vote_reveals_the_verdict_again(review_screen, qtbot, store, tmp_path):
    ws = review_screen.workspace
    first = ws.session.current().pair.comparison_id
    qtbot.keyClick(ws, Qt.Key.Key_1)
    qtbot.keyClick(ws, Qt.Key.Key_Backspace)  # undo while the verdict is shown
    assert not ws.panel.isVisible()
    ws.trigger("redo")
    assert ws.holding is not None and ws.panel.isVisible()
    assert ws.holding.comparison_id == first and len(rs.review_rows(store)) == 1
    assert review_screen.grab().save(str(tmp_path / "review_after_redo.png"))
    qtbot.keyClick(ws, Qt.Key.Key_X)
    qtbot.keyClick(ws, Qt.Key.Key_2)  # the override still works on the restored review
    assert rs.review_rows(store)["action"].tolist() == ["override"]
