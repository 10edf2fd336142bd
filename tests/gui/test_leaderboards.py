"""The Leaderboards screen on a real database: background snapshot, sorting, filter, exports, plots."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from tests.support.boards_data import add_humans
from tiebreak.core.metrics.boards import paired_tables
from tiebreak.core.store import Store

SHOTS = Path("/tmp/shots/app")
REF, JUDGE = "gpt4_1106_preview", "weighted_alpaca_eval_gpt4_turbo"


@pytest.fixture
def screen(qtbot, sample_db):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.leaderboards import LeaderboardsScreen

    add_humans(sample_db)
    store = Store(sample_db)
    ctx = AppContext(store=store, db_path=sample_db)
    widget = LeaderboardsScreen(ctx, n_resamples=200)
    qtbot.addWidget(widget)
    yield widget
    widget.pool.waitForDone(30_000)
    store.close()


def shown(qtbot, screen):
    with qtbot.waitSignal(screen.snapshot_ready, timeout=60_000):
        screen.resize(1024, 640)
        screen.show()
        assert screen.stack.currentWidget() is screen.placeholder  # visible while computing
    first = screen.snapshot
    assert first.models["bca_low"].isna().all()  # phase 1: the table without bootstrap, sooner
    qtbot.waitUntil(lambda: not screen.computing, timeout=60_000)  # phase 2: BCa intervals
    assert screen.snapshot is not first and screen.snapshot.models["bca_low"].notna().any()
    return screen.snapshot


def column(view, c):
    m = view.model()
    return [m.index(r, c).data() for r in range(m.rowCount())]


def test_models_board_sorts_filters_and_shows_intervals(screen, qtbot):
    snap = shown(qtbot, screen)
    assert screen.stack.currentWidget() is screen.tabs
    screen.select_panel(REF, JUDGE)
    panel = snap.panel(REF, JUDGE)
    assert column(screen.models_view, 0) == [k[0] for k in panel.index]
    screen.models_view.sortByColumn(7, screen.models_view.horizontalHeader().sortIndicatorOrder().AscendingOrder)
    lengths = [int(v.replace(",", "")) for v in column(screen.models_view, 7)]
    assert lengths == sorted(lengths)
    top = panel.iloc[0]
    screen.models_view.sortByColumn(1, screen.models_view.horizontalHeader().sortIndicatorOrder().DescendingOrder)
    assert column(screen.models_view, 1)[0] == f"{100 * top.win_rate:.1f}"
    assert column(screen.models_view, 3)[0] == f"{100 * top.bca_low:.1f}–{100 * top.bca_high:.1f}"
    tip = screen.models_view.model().index(0, 1).data(0x03)  # ToolTipRole
    assert "win rate" in tip and f"n = {int(top.n_total)}" in tip
    screen.filter.setText("llama")
    names = column(screen.models_view, 0)
    assert names and all("llama" in n.lower() for n in names) and len(names) < len(panel)


def test_evaluators_board_and_paired_matrix(screen, qtbot):
    snap = shown(qtbot, screen)
    assert column(screen.evaluators_view, 0) == ["humans", JUDGE]
    agree = snap.evaluators.loc[JUDGE, "Human agreement"]
    assert column(screen.evaluators_view, 1)[1] == f"{agree:.3g}"
    assert snap.paired.get((REF, JUDGE)) is None  # computed per panel, when shown
    with qtbot.waitSignal(screen.paired_ready, timeout=60_000, check_params_cb=lambda sel: sel == (REF, JUDGE)):
        screen.select_panel(REF, JUDGE)
    table = snap.paired[(REF, JUDGE)]
    store = screen.ctx.store
    expected = paired_tables(store, (REF, JUDGE))[(REF, JUDGE)]
    pd.testing.assert_frame_equal(table, expected)
    rec = table.iloc[0]
    models = [screen.paired.horizontalHeaderItem(c).text() for c in range(screen.paired.columnCount())]
    a, b = models.index(rec.model_a), models.index(rec.model_b)
    assert screen.paired.item(a, b).text() == f"{100 * rec['diff']:+.1f}"
    assert screen.paired.item(b, a).text() == f"{-100 * rec['diff']:+.1f}"
    assert "Holm-adjusted p" in screen.paired.item(a, b).toolTip()
    assert screen.paired.item(a, b).font().bold() == (rec.p_holm < 0.05)


def test_exports_and_plots(screen, qtbot, tmp_path):
    snap = shown(qtbot, screen)
    screen.select_panel(REF, JUDGE)
    out = screen.export_alpaca_eval(tmp_path / "lb.csv")
    assert list(pd.read_csv(out, index_col=0).index) == list(snap.panel(REF, JUDGE).sort_values("win_rate", ascending=False).index.get_level_values(0))
    assert screen.export_evaluators(tmp_path / "ev.csv").exists()
    assert screen.export_models(tmp_path / "m.csv").exists()
    plots = screen.plots_page().plots
    assert [p.label for p in plots["agreement_price"].points] == ["humans", JUDGE]
    lc = plots["lc_raw"]
    k = [p.label for p in lc.points].index(snap.panel(REF, JUDGE).index[0][0])
    text = lc.describe(k)
    assert f"{100 * snap.panel(REF, JUDGE).iloc[0].win_rate:.4g}" in text
    with qtbot.waitSignal(screen.browse_requested) as clicked:
        lc.click(k)
    assert clicked.args[0] == {"generator": lc.points[k].label, "group": JUDGE}
    files = screen.plots_page().export_all(tmp_path, ".png") + screen.plots.export_all(tmp_path, ".svg")
    assert all(f.stat().st_size > 500 for f in files)
    assert files[-1].read_text().lstrip().startswith("<?xml")


def test_new_labels_recompute_while_visible(screen, qtbot):
    before = shown(qtbot, screen)
    n_humans = before.evaluators.loc["humans", "# parsed"]
    with screen.ctx.store.transaction() as tx:
        aid = tx.annotator_id("cy", "human", group="humans", member="cy")
        cid = screen.ctx.store.conn.execute("SELECT min(comparison_id) FROM annotations").fetchone()[0]
        tx.add_annotation(comparison_id=cid, annotator_id=aid, preference=2.0, seconds=10.0)
    with qtbot.waitSignal(screen.snapshot_ready, timeout=60_000) as got:
        screen.ctx.events.annotations_changed.emit(None)
    qtbot.waitUntil(lambda: not screen.computing, timeout=60_000)
    assert got.args[0].models["n_total"].sum() == before.models["n_total"].sum() + 1
    assert not math.isnan(n_humans)


def test_screenshots(screen, qtbot):
    SHOTS.mkdir(parents=True, exist_ok=True)
    shown(qtbot, screen)
    screen.select_panel(REF, JUDGE)
    for w, h in ((1024, 640), (2560, 1440)):
        screen.resize(w, h)
        for k in range(screen.tabs.count()):
            screen.tabs.setCurrentIndex(k)
            qtbot.wait(50)
            assert screen.grab().save(str(SHOTS / f"leaderboards-{k}-{w}x{h}.png"))
