"""Review reads like the rest of the app: one-step override, the judge's reasoning in words, left/right."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tiebreak.core.review import sql as rs
from tiebreak.core.review.session import add_adhoc_items
from tiebreak.core.sample import load_sample, open_database

JUDGE = "weighted_alpaca_eval_gpt4_turbo"  # a logprob judge: no rationale, raw logprobs JSON


@pytest.fixture
def screen(qtbot, settings):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.review import ReviewScreen

    store = open_database(None)
    load_sample(store)
    rows = store.conn.execute(
        """SELECT a.comparison_id FROM annotations a JOIN annotators n ON n.id = a.annotator_id
           WHERE n.name = ? AND a.raw_completion IS NOT NULL ORDER BY a.comparison_id LIMIT 12""", (JUDGE,)
    ).fetchall()
    add_adhoc_items(store, JUDGE, [r[0] for r in rows], "test")
    widget = ReviewScreen(AppContext(store=store, db_path=None))
    qtbot.addWidget(widget)
    widget.resize(1300, 850)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    widget.form.reviewer.setText("rev")
    widget.form.judge.setCurrentText(JUDGE)
    widget.form.stream.setCurrentText("adhoc")
    widget.start()
    widget.workspace.setFocus()
    yield widget, store
    store.close()


def test_x_overrides_in_one_step_when_the_blind_vote_already_disagrees(screen, qtbot):
    screen, store = screen
    ws = screen.workspace
    overridden = agreed = 0
    while ws.session.current() is not None and not overridden:
        qtbot.keyClick(ws, Qt.Key.Key_1)  # blind: left is better
        reveal = ws.panel.reveal
        if reveal.agrees:
            assert "X overrides it with yours" not in ws.panel.prompt.text()
            qtbot.keyClick(ws, Qt.Key.Key_A)
            agreed += 1
            continue
        assert "X overrides it with yours (left is better)" in ws.panel.prompt.text()
        qtbot.keyClick(ws, Qt.Key.Key_X)  # one key: the blind verdict stands
        overridden += 1
        assert ws.holding is None  # moved on, no second key asked for
    rows = rs.review_rows(store)
    assert overridden == 1 and len(rows) == agreed + 1
    last = rows.iloc[-1]
    assert last["action"] == "override" and last["final_choice"] == "left"


def test_a_logprob_judge_is_explained_in_words_with_left_and_right(screen, qtbot):
    screen, _ = screen
    ws = screen.workspace
    qtbot.keyClick(ws, Qt.Key.Key_1)
    rationale, verdict = ws.panel.rationale.toPlainText(), ws.panel.verdict.text()
    assert "logprob" in rationale and "{" not in rationale and "to the left output" in rationale
    assert "preference" not in verdict and "left " in verdict and "right " in verdict
    left = int(verdict.split("(left ")[1].split("%")[0])
    right = int(verdict.split("right ")[-1].split("%")[0])
    assert abs(left + right - 100) <= 1
    assert f"{left}% to the left output" in rationale
    judge_says_right = "right is better" in verdict.split(" (left")[0]
    assert judge_says_right == (right > left)


def test_estimates_follow_the_decisions(qtbot, settings):
    from tiebreak.core.review.audit import sample_audit
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.review import ReviewScreen

    store = open_database(None)
    load_sample(store)
    sample_audit(store, JUDGE, 6, "uniform")
    screen = ReviewScreen(AppContext(store=store, db_path=None))
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is screen)
    screen.form.judge.setCurrentText(JUDGE)
    screen.estimate()
    before = screen.form.estimates.last
    assert before is not None
    screen.form.reviewer.setText("rev")
    screen.start()
    ws = screen.workspace
    ws.setFocus()
    qtbot.keyClick(ws, Qt.Key.Key_1)
    qtbot.keyClick(ws, Qt.Key.Key_A)
    assert len(rs.review_rows(store)) == 1
    qtbot.waitUntil(lambda: screen.form.estimates.last is not before, timeout=10000)
    assert "use the 0 labelled" in " ".join(before.warnings)
    assert "use the 1 labelled" in " ".join(screen.form.estimates.last.warnings)  # the decision counted
    assert "use the 1 labelled" in screen.form.estimates.warnings.text()
    store.close()
