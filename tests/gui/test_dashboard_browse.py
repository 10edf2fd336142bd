"""Human vs judge in the main window: fits 1024x640, plots carry the snapshot's numbers, clicks open Browse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QScrollArea

from tests.support.judges_db import HUMANS, category, several_judges_db
from tiebreak.core.review.dashboard import read_labels, summarise
from tiebreak.core.store import Store
from tiebreak.gui.context import AppContext

SHOTS = Path("/tmp/shots/app")
DASHBOARD = ("Human vs judge", "tiebreak.gui.dashboard:Dashboard")
BROWSE = ("Browse", "tiebreak.gui.browse:BrowseScreen")


@pytest.fixture
def judges(tmp_path):
    """(path, labels) of a database with three judges and a crowd."""
    path = tmp_path / "judges.sqlite"
    return path, several_judges_db(path)


def shown_dashboard(window, qtbot, judge=None):
    """Switch to the Human vs judge tab, pick ``judge``; wait for its snapshot."""
    index = [t for t, _ in window._entries].index(DASHBOARD[0])
    window.tabs.setCurrentIndex(index)
    qtbot.waitUntil(lambda: window.screen(index) is not None, timeout=20_000)
    dash = window.screen(index)
    if judge is not None:
        dash.judge.setCurrentText(judge)
    qtbot.waitUntil(lambda: dash.snapshot is not None and (judge is None or dash.snapshot.judge == judge),
                    timeout=20_000)  # fmt: skip
    return dash


def browse_of(window, qtbot):
    """The Browse screen once it is in front with its list loaded."""
    index = [t for t, _ in window._entries].index(BROWSE[0])
    qtbot.waitUntil(lambda: window.tabs.currentIndex() == index and window.screen(index) is not None, timeout=20_000)
    screen = window.screen(index)
    qtbot.waitUntil(lambda: not screen.list_loading, timeout=20_000)
    return screen


def click_at(qtbot, plot, x, y):
    """A real left click on the plot at data coordinates (x, y)."""
    scene = plot.plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    pos = plot.view.mapFromScene(scene)
    qtbot.mouseClick(plot.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_main_window_with_the_dashboard_fits_1024x640(make_window, qtbot, sample_db):
    from tests.support.boards_data import add_humans
    from tiebreak.gui import screens

    add_humans(sample_db)
    store = Store(sample_db)
    window = make_window(AppContext(store=store, db_path=sample_db), screens=screens.SCREENS, resize=False)
    window.resize(1024, 640)
    dash = shown_dashboard(window, qtbot)
    qtbot.wait(50)
    hint, minimum = window.minimumSizeHint(), window.minimumSize()
    assert hint.width() <= 1024 and hint.height() <= 640, hint
    assert minimum.width() <= 1024 and minimum.height() <= 640, minimum
    assert (window.width(), window.height()) == (1024, 640)
    for key, panel in dash.panels.items():  # every panel can be scrolled to and is big enough to read
        assert panel.isVisible() and panel.width() >= 300 and panel.height() >= 200, (key, panel.size())
    bar = dash.scroll.verticalScrollBar()
    assert dash.grid.height() <= dash.scroll.viewport().height() + bar.maximum()
    window.resize(2560, 1440)
    qtbot.waitUntil(lambda: dash.width() > 2400)
    used = sum(p.width() * p.height() for p in dash.panels.values())
    assert used > 0.8 * dash.scroll.viewport().width() * dash.scroll.viewport().height()  # the panels grow
    window.close()
    store.close()


def expected_cells(labels, judge):
    """Comparison ids per (judge category, human category), from the inserted labels alone."""
    cells: dict[tuple[int, int], list[int]] = {}
    for cid, human in labels.humans.items():
        if cid in labels.judges[judge]:
            key = (category(float(np.mean(labels.judges[judge][cid]))), category(sorted(human)[1]))
            cells.setdefault(key, []).append(cid)
    return cells


@pytest.mark.parametrize("judge", ["judge-verbose", "judge-coin"])
def test_confusion_cell_click_browses_exactly_its_items(judges, make_window, qtbot, judge):
    path, labels = judges
    store = Store(path)
    window = make_window(AppContext(store=store, db_path=path), screens=[DASHBOARD, BROWSE])
    dash = shown_dashboard(window, qtbot, judge)
    cells = expected_cells(labels, judge)
    plot = dash.panels["confusion"].body
    for (i, j) in [(2, 0), (0, 2), (0, 0)]:  # judge model & humans ref, the reverse, agreement
        window.tabs.setCurrentIndex(0)
        click_at(qtbot, plot, j + 0.5, i + 0.5)
        browse = browse_of(window, qtbot)
        want = sorted(cells.get((i, j), []))
        assert want and browse.cursor.ids == want
        assert sorted(r["comparison_id"] for r in browse.list.list_model.rows) == want
        assert browse.filters.items_note.isVisible() and f"— {len(want)} comparison" in browse.filters.items_note.text()
    browse.filters.clear_items.click()
    qtbot.waitUntil(lambda: browse.cursor.total == len(labels.dataset))
    window.close()
    store.close()


def test_dataset_bar_and_calibration_point_browse_their_items(judges, make_window, qtbot):
    path, labels = judges
    store = Store(path)
    window = make_window(AppContext(store=store, db_path=path), screens=[DASHBOARD, BROWSE])
    dash = shown_dashboard(window, qtbot, "judge-careful")
    both = {cid for cid in labels.humans if cid in labels.judges["judge-careful"]}
    bars = dash.panels["datasets"].body
    k = [b.label.split(" (")[0] for b in bars.bars].index("koala")
    click_at(qtbot, bars, 0.05, k + 0.5)  # on the bar's left end
    browse = browse_of(window, qtbot)
    assert browse.cursor.ids == sorted(c for c in both if labels.dataset[c] == "koala")
    window.tabs.setCurrentIndex(0)
    calib = dash.panels["calibration"].body
    top = max(range(len(calib.points)), key=lambda n: calib.points[n].x)
    click_at(qtbot, calib, calib.points[top].x, calib.points[top].y)
    browse = browse_of(window, qtbot)
    assert browse.cursor.ids == sorted(c for c in both if np.mean(labels.judges["judge-careful"][c]) - 1 >= 0.8)
    window.close()
    store.close()


def test_plots_show_the_snapshot_numbers_and_hover_them(judges, qtbot, tmp_path):
    from tiebreak.gui.dashboard import Dashboard

    path, _ = judges
    store = Store(path)
    dash = Dashboard(AppContext(store=store, db_path=path))
    qtbot.addWidget(dash)
    dash.resize(1024, 600)
    dash.show()
    dash.judge.setCurrentText("judge-coin")
    qtbot.waitUntil(lambda: dash.snapshot is not None and dash.snapshot.judge == "judge-coin", timeout=20_000)
    core = summarise(read_labels(store, "judge-coin", HUMANS), "judge-coin", HUMANS).comparison
    confusion = dash.panels["confusion"].body
    counts = core.confusion.to_numpy()
    assert sorted((int(b.y0), int(b.x0), int(b.text)) for b in confusion.bars) == \
        [(i, j, int(counts[i, j])) for i in range(3) for j in range(3)]  # fmt: skip
    k = next(n for n, b in enumerate(confusion.bars) if (b.y0, b.x0) == (1, 2))
    assert f"{counts[1, 2]} comparisons" in confusion.describe_bar(k)
    bars = dash.panels["datasets"].body
    assert [(b.label, round(b.width, 12)) for b in bars.bars] == \
        [(f"{r.dataset} (n={r.n})", round(r.agreement, 12)) for r in core.by_dataset.itertuples()]  # fmt: skip
    assert f"{100 * core.by_dataset['lower'].iloc[0]:.1f}%" in bars.describe_bar(0)
    calib = dash.panels["calibration"].body
    rows = core.calibration[core.calibration["n"] > 0]
    assert [(p.x, p.y) for p in calib.points] == list(zip(rows["mean_judge"], rows["mean_human"], strict=True))
    assert f"{rows['mean_human'].iloc[0]:.4g}" in calib.describe(0) and f"n = {rows['n'].iloc[0]}" in calib.describe(0)
    scene = bars.plot_item.getViewBox().mapViewToScene(QPointF(0.05, 0.5))
    bars.view.scene().sigMouseMoved.emit(scene)  # what a mouse move over the first bar sends
    assert bars.hover_text == bars.describe_bar(0) and bars.hover_label.isVisible()
    for key in ("confusion", "datasets", "calibration"):
        panel = dash.panels[key]
        assert panel.export_png(tmp_path / f"{key}.png") and panel.export_svg(tmp_path / f"{key}.svg")
        assert (tmp_path / f"{key}.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="only plots"):
        dash.panels["summary"].export_svg(tmp_path / "summary.svg")
    store.close()


class QuickBoards:  # a Leaderboards screen with few bootstrap resamples (built by the registry)
    def __new__(cls, ctx, parent=None):
        from tiebreak.gui.leaderboards import LeaderboardsScreen

        return LeaderboardsScreen(ctx, parent, n_resamples=50)


def test_leaderboard_point_click_opens_browse(make_window, qtbot, sample_db):
    from tests.support.boards_data import add_humans

    add_humans(sample_db)
    store = Store(sample_db)
    window = make_window(AppContext(store=store, db_path=sample_db),
                         screens=[("Leaderboards", f"{__name__}:QuickBoards"), BROWSE])  # fmt: skip
    boards = window.screen(0)
    qtbot.waitUntil(lambda: boards.snapshot is not None, timeout=60_000)
    judge = "weighted_alpaca_eval_gpt4_turbo"
    boards.select_panel("gpt4_1106_preview", judge)
    boards.tabs.setCurrentWidget(boards._plots_tab)
    plot = boards.plots_page().plots["lc_raw"]
    qtbot.waitUntil(lambda: plot.isVisible() and plot.view.height() > 100)
    boards.plots.findChild(QScrollArea).ensureWidgetVisible(plot)
    qtbot.wait(50)
    k = 0
    name = plot.points[k].label
    click_at(qtbot, plot, plot.points[k].x, plot.points[k].y)
    browse = browse_of(window, qtbot)
    want = [r[0] for r in store.conn.execute(
        """SELECT DISTINCT c.id FROM comparisons c JOIN outputs o ON o.id = c.output_2_id
           JOIN instructions i ON i.id = c.instruction_id JOIN annotations a ON a.comparison_id = c.id
           JOIN annotators an ON an.id = a.annotator_id
           WHERE o.generator = ? AND an.group_name = ? AND a.retracted_at IS NULL
           ORDER BY coalesce(i.ordinal, i.id), i.id, c.id""", (name, judge))]  # fmt: skip
    assert want and browse.cursor.ids == want
    assert browse.generator.currentText() == name and browse.group.currentText() == judge
    qtbot.waitUntil(lambda: not boards.computing, timeout=60_000)
    window.close()
    store.close()


def test_screenshots(judges, make_window, qtbot):
    path, _ = judges
    store = Store(path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    window = make_window(AppContext(store=store, db_path=path), screens=[DASHBOARD, BROWSE], resize=False)
    dash = shown_dashboard(window, qtbot, "judge-verbose")
    for w, h in ((1024, 640), (2560, 1440)):
        window.resize(w, h)
        qtbot.wait(100)
        assert window.grab().save(str(SHOTS / f"human-vs-judge-{w}x{h}.png"))
    dash.panels["confusion"].body.click_bar(6)
    browse_of(window, qtbot)
    assert window.grab().save(str(SHOTS / "browse-after-cell-2560x1440.png"))
    window.close()
    store.close()


def test_narrow_dashboard_stacks_its_panels_in_one_scrolling_column(judges, qtbot):
    from tiebreak.gui.dashboard import Dashboard

    path, _ = judges
    store = Store(path)
    dash = Dashboard(AppContext(store=store, db_path=path))
    qtbot.addWidget(dash)
    dash.resize(1000, 600)
    dash.show()
    qtbot.waitUntil(lambda: dash.snapshot is not None, timeout=20_000)
    assert len({p.x() for p in dash.panels.values()}) == 2  # two columns
    dash.resize(640, 500)
    qtbot.waitUntil(lambda: dash.grid.columns == 1)
    qtbot.wait(50)
    assert len({p.x() for p in dash.panels.values()}) == 1
    assert dash.scroll.verticalScrollBar().maximum() > 0  # the rest is a scroll away, not squeezed
    assert all(p.height() >= 200 for p in dash.panels.values())
    store.close()
