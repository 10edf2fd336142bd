"""The integration test: key press -> SQLite row -> statistics panel -> undo reverts all three."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tiebreak.core.labelling.live import LiveStats


def panel(ws, candidate, group="humans"):
    """(n, win rate text) of the panel row for candidate x group."""
    t = ws.view.stats.win_table
    for r in range(t.rowCount()):  # read the widget's cells (what is on screen)
        if t.item(r, 0).text() == candidate and t.item(r, 1).text() == group:
            return int(t.item(r, 2).text()), t.item(r, 3).text()
    raise AssertionError(f"no row for {candidate}/{group}")


def agreement_n(ws):
    t = ws.view.stats.agree_table
    return int(t.item(0, 1).text()) if t.rowCount() else 0


def live_labels(store):
    return store.conn.execute(
        "SELECT comparison_id, preference, raw_choice, swapped FROM annotations"
        " WHERE source = 'label' AND retracted_at IS NULL ORDER BY id"
    ).fetchall()


def expected_win_rate(store, candidate):
    frame = store.annotations_frame(with_texts=False, sources=["label"], generators=[candidate])
    return f"{100 * (frame['preference'] - 1).mean():.1f}%" if len(frame) else "—"


def test_key_to_sqlite_to_stats_and_undo_in_both_orientations(workspace, qtbot, ctx):
    ws, store = workspace, ctx.store
    assert ws.stats_feed is not None
    orientations = set()
    while orientations != {False, True}:
        shown = ws.session.current()
        cid, cand = shown.pair.comparison_id, shown.pair.generator_2
        n0, _ = panel(ws, cand)
        agree0, labels0 = agreement_n(ws), live_labels(store)

        qtbot.keyClick(ws, Qt.Key.Key_Left)  # "left is better"
        # 1. the row: the left output wins, so the canonical preference depends on the swap
        expected = 2.0 if shown.swapped else 1.0
        assert live_labels(store)[-1] == (cid, expected, "left", int(shown.swapped))
        # 2. the panel: this candidate's human win rate and the judge overlap moved
        assert panel(ws, cand) == (n0 + 1, expected_win_rate(store, cand))
        assert agreement_n(ws) == agree0 + 1  # the judge has a verdict on every comparison
        assert "items done: " + str(len(labels0) + 1) in ws.view.stats.session_label.text()
        assert ws.session.current().pair.comparison_id != cid

        qtbot.keyClick(ws, Qt.Key.Key_Backspace)  # undo
        assert live_labels(store) == labels0  # 1. retracted ...
        assert store.conn.execute(
            "SELECT count(*) FROM annotations WHERE comparison_id = ? AND source = 'label'"
            " AND retracted_at IS NOT NULL", (cid,)).fetchone()[0] >= 1  # ... never deleted
        assert panel(ws, cand)[0] == n0 and agreement_n(ws) == agree0  # 2. statistics reverted
        assert "items done: " + str(len(labels0)) in ws.view.stats.session_label.text()
        assert ws.session.current().pair.comparison_id == cid  # 3. back on that item

        qtbot.keyClick(ws, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert live_labels(store)[-1] == (cid, expected, "left", int(shown.swapped))  # redo
        assert panel(ws, cand)[0] == n0 + 1
        orientations.add(shown.swapped)

    # the incremental statistics equal a rebuild from the database
    feed = ws.stats_feed
    rebuilt = LiveStats.from_frame(store.annotations_frame(with_texts=False)).snapshot()
    live = feed.live.snapshot()
    humans = [key for key in rebuilt.win_rates if key[1] == "humans"]
    assert humans
    for key in humans:
        assert repr(live.win_rates[key]) == repr(rebuilt.win_rates[key])  # nan-aware, exact
    assert dict(live.agreement) == dict(rebuilt.agreement)
