"""The Coordinator screen renders the round snapshot and runs create / merge / exclude / reissue."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests.support.crowd_data import coordinator, label_all, right_always
from tiebreak.core.cli import build_parser, cmd_leaderboard
from tiebreak.core.identity import pooled_statistics_shown
from tiebreak.gui.context import AppContext
from tiebreak.gui.coordinator import CoordinatorScreen

SHOTS = Path("/tmp/shots/crowd")


def cells(table, col: int) -> list[str]:
    return [table.item(r, col).text() for r in range(table.rowCount())]


def test_coordinator_round_lifecycle(qtbot, tmp_path, settings):
    store = coordinator(tmp_path / "coord.sqlite")
    screen = CoordinatorScreen(AppContext(store=store, db_path=store.path))
    qtbot.addWidget(screen)
    assert "No crowd round yet" in screen.summary.text()
    assert not screen.create("r1", ["ann", "ann"], 1, str(tmp_path / "packs"))  # a name given twice
    assert "twice" in screen.message.text()
    assert screen.create("r1", ["ann", "ben", "cho"], 2, str(tmp_path / "packs"), repeats=1, identical=1)
    assert cells(screen.progress, 0) == ["ann", "ben", "cho"]
    assert "24 items" in screen.summary.text() and "24 below K" in screen.summary.text()
    packs = sorted((tmp_path / "packs").glob("*.tiebreak"))
    for p in packs[:2]:
        label_all(p, right_always)
    bad = tmp_path / "broken.tiebreak"
    bad.write_bytes(b"junk")
    assert screen.merge([str(p) for p in packs[:2]] + [str(bad)])
    assert "NOT merged" in screen.message.text() and "broken.tiebreak" in screen.message.text()
    qtbot.waitUntil(lambda: not screen.jobs.busy, timeout=30_000)  # the LC refresh, on a connection of its own
    args = build_parser(command="leaderboard").parse_args(["leaderboard"])
    assert cmd_leaderboard.cached_records(store, args) is not None  # the merged labels' panels were refitted
    done = dict(zip(cells(screen.progress, 0), cells(screen.progress, 2), strict=True))
    assert done["ann"] == cells(screen.progress, 1)[0] and done["cho"] == "0"
    assert screen.quality.rowCount() == 3
    screen.quality.setCurrentCell(2, 0)  # cho
    screen.quality.selectRow(2)
    screen._exclude_selected()
    assert "cho excluded" in screen.message.text()
    assert cells(screen.progress, 5)[2] == "excluded"
    assert screen.reissue("dee", str(tmp_path / "packs"), from_="cho")
    assert "dee" in cells(screen.progress, 0)
    screen.show_pooled.setChecked(True)
    assert pooled_statistics_shown(store)
    for w, h in ((1024, 640), (2560, 1440)):
        screen.resize(w, h)
        screen.show()
        qtbot.waitExposed(screen)
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert screen.grab().save(str(SHOTS / f"coordinator_{w}x{h}.png"))


def test_the_round_name_is_shown_as_typed_never_as_markup(qtbot, tmp_path, settings):
    store = coordinator(tmp_path / "coord.sqlite")
    screen = CoordinatorScreen(AppContext(store=store, db_path=store.path))
    qtbot.addWidget(screen)
    assert screen.create("<font size=6 color=green>r1", ["ann", "ben"], 1, str(tmp_path / "packs"))
    assert screen.summary.textFormat() == Qt.TextFormat.PlainText
    assert "Round <font size=6 color=green>r1: " in screen.summary.text()
