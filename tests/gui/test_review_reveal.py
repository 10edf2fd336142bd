"""Defect 2 of issue 9 on the bundled sample: the reveal of a verdict without a raw completion.

403 of the sample's 1,200 verdicts have no raw completion; pandas turns the gap into NaN. Real keys
drive the Review screen through such items: each vote reveals the verdict (text on screen), A
decides it, and every item ends with a stored action. A reveal that fails to draw leaves the
machine revealed: the next vote key writes nothing.
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt

from tiebreak.core.review import sql as rs
from tiebreak.core.review.machine import ReviewState
from tiebreak.core.review.session import add_adhoc_items
from tiebreak.core.sample import load_sample, open_database

JUDGE = "weighted_alpaca_eval_gpt4_turbo"


@pytest.fixture
def screen(qtbot, settings):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.review import ReviewScreen

    store = open_database(None)
    load_sample(store)  # no command or call loads the sample implicitly
    rows = store.conn.execute(
        """SELECT a.comparison_id, a.raw_completion IS NULL FROM annotations a
           JOIN annotators n ON n.id = a.annotator_id WHERE n.name = ? ORDER BY a.comparison_id""", (JUDGE,)
    ).fetchall()
    without = [c for c, missing in rows if missing][:3]
    with_raw = [c for c, missing in rows if not missing][:1]
    add_adhoc_items(store, JUDGE, without + with_raw, "test: no raw completion")
    screen = ReviewScreen(AppContext(store=store, db_path=None))
    qtbot.addWidget(screen)
    screen.resize(1300, 850)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    screen.form.reviewer.setText("rev")
    screen.form.stream.setCurrentText("adhoc")
    screen.start()
    screen.workspace.setFocus()
    yield screen, store, set(without)
    store.close()


def test_real_keys_through_items_without_raw_completion(screen, qtbot):
    screen, store, without = screen
    ws = screen.workspace
    nan_raw = [c for c, v in ws.session.verdicts.items() if isinstance(v["raw_completion"], float)
               and math.isnan(v["raw_completion"])]  # fmt: skip
    assert set(nan_raw) == without  # the trap is there: NaN reaches the review
    seen = []
    while ws.session.current() is not None:
        cid = ws.session.current().pair.comparison_id
        qtbot.keyClick(ws, Qt.Key.Key_1)  # blind vote: the reveal must draw
        assert ws.session.state is ReviewState.REVEALED and ws.holding is not None and ws.panel.isVisible()
        assert ws.panel.rationale.toPlainText().strip() and JUDGE in ws.panel.verdict.text()
        assert ws.session.current().pair.comparison_id == cid  # the revealed item stays on screen
        qtbot.keyClick(ws, Qt.Key.Key_A)
        seen.append(cid)
    rows = rs.review_rows(store)
    assert set(seen) >= without and len(rows) == len(seen) == 4
    assert rows["action"].tolist() == ["accept"] * 4 and rows["blind_choice"].tolist() == ["left"] * 4


def test_a_reveal_that_fails_to_draw_never_advances_the_machine(screen, qtbot, monkeypatch):
    screen, store, _ = screen
    ws = screen.workspace

    def broken(_reveal):
        raise TypeError("setPlainText(float)")

    monkeypatch.setattr(ws.panel, "show_reveal", broken)
    cid = ws.session.current().pair.comparison_id
    qtbot.keyClick(ws, Qt.Key.Key_1)
    assert ws.session.state is ReviewState.REVEALED and ws.holding is not None
    assert "could not show" in ws.panel.rationale.toPlainText()
    n = store.conn.total_changes
    qtbot.keyClick(ws, Qt.Key.Key_2)  # a vote key now is refused: nothing for the next item
    assert store.conn.total_changes == n and ws.session.current().pair.comparison_id == cid
    qtbot.keyClick(ws, Qt.Key.Key_A)
    live = rs.review_rows(store)
    assert live["comparison_id"].tolist() == [cid] and live["action"].tolist() == ["accept"]
