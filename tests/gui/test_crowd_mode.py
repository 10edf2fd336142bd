"""Crowd mode: a pack opens in a window with only the labelling workspace; keys become pack events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.crowd_data import small_round
from tiebreak.core.crowd.merge import merge_files
from tiebreak.gui.crowd_labelling import HIDDEN_NOTE, build_crowd_window
from tiebreak.gui.launcher import main as launcher_main

SHOTS = Path("/tmp/shots/crowd")


def test_pack_window_offers_only_labelling_and_records_events(qtbot, tmp_path, settings):
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    window = build_crowd_window(made.packs["ann"])
    qtbot.addWidget(window)
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == ["Labelling"]
    screen = window.screen(0)
    assert "Labelling as <b>ann</b>" in screen.banner.text()
    stats = screen.workspace.view.stats
    assert HIDDEN_NOTE in stats.status.text()
    assert stats.win_table.parentWidget().isHidden() and stats.agree_table.parentWidget().isHidden()
    shown = screen.session.current()
    assert not {shown.pair.generator_1, shown.pair.generator_2} & {"ref-model", "cand-a", "cand-b"}
    window.show()  # actions act only on the screen in front
    qtbot.waitExposed(window)
    for action in ("left", "right", "undo"):  # what the keys / buttons trigger; undo retracts "right"
        screen.workspace.trigger(action)
    for w, h in ((1024, 640), (2560, 1440)):
        window.resize(w, h)
        window.show()
        qtbot.waitExposed(window)
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(SHOTS / f"crowd_mode_{w}x{h}.png"))
    window.close()
    window.ctx.store.close()
    kinds = [r[0] for r in sqlite3.connect(made.packs["ann"]).execute("SELECT kind FROM crowd_pack_events ORDER BY seq")]
    assert kinds[:4] == ["session_start", "label", "label", "retraction"] and kinds[-1] == "session_end"
    report = merge_files(store, [made.packs["ann"]])
    assert report.files[0].ok and report.files[0].n_changed == 1
    rows = store.conn.execute("SELECT raw_choice FROM annotations WHERE source = 'label' AND retracted_at IS NULL").fetchall()
    assert rows == [("left",)]


def test_launcher_opens_a_pack_in_crowd_mode(tmp_path, monkeypatch):
    import tiebreak.gui.crowd_labelling as crowd

    seen = []
    monkeypatch.setattr(crowd, "run_pack", lambda pack, screenshot=None: seen.append(pack) or 0)
    assert launcher_main([str(tmp_path / "r-ann.tiebreak")]) == 0
    assert seen == [str(tmp_path / "r-ann.tiebreak")]


def test_round_guidelines_travel_in_the_pack(qtbot, tmp_path, settings):
    _store, made = small_round(tmp_path, ["ann"], 1, repeats=0, identical=0,
                               guidelines="Prefer the more helpful answer.\nIgnore formatting.")  # fmt: skip
    window = build_crowd_window(made.packs["ann"])
    qtbot.addWidget(window)
    screen = window.screen(0)
    assert "Prefer the more helpful answer." in screen.banner.text()
    window.show()
    qtbot.waitExposed(window)
    screen.workspace.trigger("guidelines")
    assert "Ignore formatting." in screen.workspace._dialogs["guidelines"].browser.toPlainText()
    window.close()
    window.ctx.store.close()


def test_a_missing_or_foreign_file_shows_an_error_page(qtbot, tmp_path, settings):
    missing = build_crowd_window(tmp_path / "nope.tiebreak")
    qtbot.addWidget(missing)
    assert missing.tabs.tabText(0) == "Error" and not (tmp_path / "nope.tiebreak").exists()
    plain = tmp_path / "plain.tiebreak"
    from tiebreak.core.store import Store

    Store(plain, create=True).close()  # a Tiebreak database that is not a pack
    window = build_crowd_window(plain)
    qtbot.addWidget(window)
    assert "not a Tiebreak pack" in window.tabs.widget(0).text()
    window.ctx.store.close()
