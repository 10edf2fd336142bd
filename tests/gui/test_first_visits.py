"""First visits load off the GUI thread: the screen is up at once, its core loader runs in a worker.

Real SQLite files (a file database is what the app opens; an in-memory one has a single
connection and is read on the GUI thread). The core loaders are wrapped only to note the thread
they run on; they read the real database.
"""

from __future__ import annotations

import threading

import pytest

from tests.core.test_crowd import simulate_crowd
from tests.gui._data import CANDIDATES, fill_store
from tiebreak.core.store import Store
from tiebreak.gui.context import AppContext


def spy(monkeypatch, module, name: str) -> list[str]:
    """Wrap ``module.name`` so that each call notes its thread's name (the real function runs)."""
    real, threads = getattr(module, name), []

    def wrapper(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return threads


@pytest.fixture
def file_store(tmp_path):
    path = tmp_path / "visits.tiebreak"
    store = Store(path, create=True)
    yield store, path
    store.close()


def test_annotators_first_load_runs_in_a_worker(file_store, qtbot, monkeypatch):
    from tiebreak.gui import annotators

    store, path = file_store
    simulate_crowd(store, n_items=16)
    threads = spy(monkeypatch, annotators, "annotators_snapshot_at")
    screen = annotators.AnnotatorsScreen(AppContext(store=store, db_path=path))
    qtbot.addWidget(screen)
    assert screen.table.rowCount() == 0 and "Loading" in screen.summary.text()  # up before the data
    screen.show()
    qtbot.waitExposed(screen)  # the screen answers events while the worker reads
    qtbot.waitUntil(lambda: screen.table.rowCount() == 4)
    assert threads and threading.main_thread().name not in threads
    assert screen.group.currentText() == "humans" and "4 annotator(s) in humans" in screen.summary.text()
    screen.overlap.setValue(5)  # a later change is computed in the worker too
    qtbot.waitUntil(lambda: "below 5 label(s)" in screen.summary.text())
    assert len(threads) == 2 and threading.main_thread().name not in threads


def test_annotators_empty_file_database_says_so(file_store, qtbot):
    from tiebreak.gui.annotators import AnnotatorsScreen

    store, path = file_store
    screen = AnnotatorsScreen(AppContext(store=store, db_path=path))
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: "No human annotator group" in screen.summary.text())
    assert screen.group.count() == 0 and screen.report is None


def test_browse_first_load_runs_in_a_worker(file_store, qtbot, monkeypatch):
    from tiebreak.gui import browse, browse_item

    store, path = file_store
    ids = fill_store(store, 3)
    threads = spy(monkeypatch, browse_item, "browse_start_at")  # the core loader of the first load
    screen = browse.BrowseScreen(AppContext(store=store, db_path=path))
    qtbot.addWidget(screen)
    assert screen.cursor is None and screen.empty.text().startswith("Loading")  # up before the data
    screen.resize(1300, 850)
    screen.show()
    qtbot.waitExposed(screen)
    qtbot.waitUntil(lambda: screen.cursor is not None)
    assert threads and threading.main_thread().name not in threads
    assert screen.position.text() == f"1 / {len(ids)}" and screen.cursor.ids == sorted(screen.cursor.ids)
    assert screen.instruction.toPlainText() == store.pair(screen.cursor.ids[0]).instruction
    qtbot.waitUntil(lambda: not screen.list_loading)
    rows = screen.list.list_model.rows  # numbered by the list's worker
    assert [r["position"] for r in rows] == list(range(1, len(ids) + 1))
    assert [r["comparison_id"] for r in rows] == screen.cursor.ids
    screen.next()  # navigation works on the ids the worker listed
    assert screen.position.text() == f"2 / {len(ids)}"


def test_browse_request_from_another_screen_before_the_first_load_wins(file_store, qtbot):
    from tiebreak.gui.browse import BrowseScreen

    store, path = file_store
    fill_store(store, 3)
    screen = BrowseScreen(AppContext(store=store, db_path=path))
    qtbot.addWidget(screen)
    generator = CANDIDATES[-1]
    screen.apply_browse({"generator": generator})  # e.g. a plot point clicked while Browse loads
    qtbot.waitUntil(lambda: not screen.starter.busy)
    assert screen.cursor is not None and screen.cursor.generators == (generator,)
    assert screen.generator.currentText() == generator


def _reviewed_dashboard(qtbot):
    """The sample with 40 reviewed spot-check items and a Human-vs-judge screen on it (not shown)."""
    from tests.support.reviews import JUDGE, simulate_reviews
    from tiebreak.core.review.audit import sample_audit
    from tiebreak.core.sample import open_database
    from tiebreak.gui.dashboard import Dashboard

    store = open_database(None, sample=True)
    sample_audit(store, JUDGE, 40, "uniform", seed=3)
    simulate_reviews(store, 40)
    dash = Dashboard(AppContext(store=store, db_path=None))
    qtbot.addWidget(dash)
    return store, dash


def test_dashboard_builds_its_plots_one_per_turn_after_the_screen(qtbot):
    from PySide6.QtCore import QTimer

    from tiebreak.gui.dashboard import PLOTS
    from tiebreak.gui.plots import ScatterPlot

    store, dash = _reviewed_dashboard(qtbot)
    plots = [dash.panels[k] for k in PLOTS]
    assert not any(p.built for p in plots) and dash.build.busy  # the screen is up before any plot
    assert all(p.body.objectName() == "panelLoading" for p in plots)
    log: list[str] = []

    def step_done(name: str) -> None:
        log.append(f"{name}: {sum(p.built for p in plots)} built")
        QTimer.singleShot(0, lambda: log.append("event loop"))  # runs before the next plot is made

    dash.build.step_done.connect(step_done)
    # not shown yet, so no snapshot can arrive and finish the plots early (a shown result does that)
    qtbot.waitUntil(lambda: len(log) == 12)
    # a plot is made in one turn and put in place (first painted) in the next: a turn held both
    assert log == ["confusion: 0 built", "event loop", "place confusion: 1 built", "event loop",
                   "datasets: 1 built", "event loop", "place datasets: 2 built", "event loop",
                   "calibration: 2 built", "event loop", "place calibration: 3 built", "event loop"]  # fmt: skip
    dash.resize(1200, 800)
    dash.show()
    qtbot.waitUntil(lambda: dash.result is not None, timeout=10_000)
    confusion = dash.panels["confusion"].body
    assert isinstance(confusion, ScatterPlot) and len(confusion.bars) == 9
    store.close()


def test_a_snapshot_that_arrives_first_is_drawn_a_plot_per_turn_once_the_plots_are_built(qtbot):
    from PySide6.QtCore import QTimer

    from tiebreak.core.review.dashboard import read_labels, summarise
    from tiebreak.gui.dashboard import PLOTS

    store, dash = _reviewed_dashboard(qtbot)
    log: list[str] = []
    dash.build.step_done.connect(lambda name: (log.append(name), QTimer.singleShot(0, lambda: log.append("turn"))))
    judge, humans = dash.judge.currentText(), dash.humans.currentText()
    dash._show(summarise(read_labels(store, judge, humans), judge, humans))  # as the runner delivers it
    assert dash.summary.rowCount() > 0 and dash.result is None  # the table at once; the plots wait
    steps = [*(s for k in PLOTS for s in (k, f"place {k}")), *(f"draw {k}" for k in PLOTS), "shown"]
    qtbot.waitUntil(lambda: len(log) == 2 * len(steps), timeout=10_000)
    assert dash.result is not None and log == [x for step in steps for x in (step, "turn")]  # one step per event-loop turn
    assert sum(int(b.text) for b in dash.panels["confusion"].body.bars) == dash.result.n_overlap
    store.close()


def test_a_panel_draws_data_that_arrived_before_its_plot(qtbot):
    import pandas as pd

    from tiebreak.gui.dashboard_panels import ConfusionPlot, Panel

    panel = Panel("Confusion matrix", None)
    qtbot.addWidget(panel)
    counts = pd.DataFrame([[3, 1, 0], [0, 2, 0], [1, 0, 4]], index=["a", "b", "c"], columns=["x", "y", "z"])
    panel.set_data(counts, lambda key: {"ids": [7], "key": key})
    assert not panel.built and panel.buttons["svg"].isHidden()
    plot = ConfusionPlot()
    panel.set_body(plot)
    assert panel.built and panel.body is plot and not panel.buttons["svg"].isHidden()
    assert sorted(b.text for b in plot.bars) == sorted(str(v) for v in counts.to_numpy().ravel())
    assert plot.bars[0].browse == {"ids": [7], "key": (0, 0)}


def test_review_builds_its_workspace_when_a_review_starts(qtbot, make_window, store):
    from tests.core.test_spotcheck_audit import build_spotcheck_store
    from tiebreak.core.review.audit import sample_audit

    build_spotcheck_store(store, n_instructions=6)
    sample_audit(store, "gpt4_judge", 4, "uniform", seed=11)
    window = make_window(AppContext(store=store, db_path=None),
                         screens=[("Review", "tiebreak.gui.review:ReviewScreen")])  # fmt: skip
    screen = window.screen(0)
    review_menu = window.menus["&Review"]
    assert screen.built_workspace is None and screen.count() == 1  # the first visit builds the setup only
    assert [a.text() for a in review_menu.actions()] == ["Review setup…"]
    screen.form.reviewer.setText("alice")
    session = screen.start()
    ws = screen.built_workspace
    assert ws is not None and screen.currentWidget() is ws and ws.session is session
    menu = review_menu.actions()
    assert all(ws.actions_by_id[i] in menu for i in ("accept", "override", "reason"))  # added when built
    assert screen.workspace is ws  # built once


def test_closing_the_window_never_builds_an_unused_review_workspace(qtbot, make_window, store):
    from tests.core.test_spotcheck_audit import build_spotcheck_store

    build_spotcheck_store(store, n_instructions=3)
    window = make_window(AppContext(store=store, db_path=None),
                         screens=[("Review", "tiebreak.gui.review:ReviewScreen")])  # fmt: skip
    window.close()
    assert window.screen(0).built_workspace is None


def test_screen_imports_pause_the_collector_and_freeze_what_they_made():
    import gc

    from tiebreak.gui.screen_loader import quiet_collector

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with quiet_collector():
        with quiet_collector():  # nested (or a second import thread): one pause
            assert not gc.isenabled()
            made = [[k] for k in range(1000)]  # objects a module body makes (containers: tracked)
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() >= frozen + len(made)
    gc.unfreeze()  # the test's objects back to the collector


def test_warming_the_lexers_imports_the_colour_styles_too(monkeypatch):
    import sys

    from tiebreak.gui.labelling.rich import PYGMENTS_STYLE, warm_lexers

    modules = [f"pygments.styles.{name}" for name in PYGMENTS_STYLE.values()]
    for name in modules:
        monkeypatch.delitem(sys.modules, name, raising=False)
    warm_lexers("no code here")
    assert not any(name in sys.modules for name in modules)  # nothing to colour: nothing imported
    warm_lexers("text\n```python\nprint(1)\n```\n")  # on Browse's worker, before the GUI thread draws
    assert all(name in sys.modules for name in modules)


@pytest.mark.qt_log_ignore("does not support raise", "does not support grabbing the keyboard", "propagateSizeHints")
def test_a_plots_right_click_menu_is_built_when_first_asked_for(qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from tiebreak.gui.plots import ScatterPlot

    plot = ScatterPlot("t", "x", "y")
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    qtbot.waitExposed(plot)
    box = plot.plot_item.getViewBox()
    assert box.menu is None and box.menuEnabled()  # not built with the plot, still offered
    centre = plot.view.mapFromScene(box.sceneBoundingRect().center())
    QTest.mouseClick(plot.view.viewport(), Qt.MouseButton.RightButton, pos=QPoint(centre.x(), centre.y()))
    qtbot.waitUntil(lambda: box.menu is not None and box.menu.isVisible())
    assert "View All" in [a.text() for a in box.menu.actions()]
    box.menu.close()


def test_the_dashboard_computes_only_after_its_plots_are_built(qtbot):
    from tiebreak.gui.dashboard import PLOTS

    store, dash = _reviewed_dashboard(qtbot)
    seen: list[tuple[str, int]] = []
    dash.build.step_done.connect(lambda name: seen.append((name, dash.runner.started)))
    dash.resize(1200, 800)
    dash.show()  # shown while its plots are still being built (one per turn)
    qtbot.waitUntil(lambda: dash.result is not None, timeout=10_000)
    # the computation's thread and the plot building would share one interpreter: it waits for them
    assert seen[:7] == [*((s, 0) for k in PLOTS for s in (k, f"place {k}")), ("compute", 1)]
    store.close()
