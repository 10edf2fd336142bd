"""The human-vs-judge dashboard renders on the bundled sample, follows new labels, exports panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtGui import QImage

from tests.support.reviews import JUDGE, simulate_reviews
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.sample import open_database


def distinct_colours(image: QImage) -> int:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    arr = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    return len(np.unique(arr))


@pytest.fixture
def sample_store():
    store = open_database(None, sample=True)
    sample_audit(store, JUDGE, 60, "uniform", seed=1)
    simulate_reviews(store, 60)
    yield store
    store.close()


def test_dashboard_renders_on_bundled_sample(sample_store, qtbot, tmp_path):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.dashboard import Dashboard

    ctx = AppContext(store=sample_store, db_path=None)
    dash = Dashboard(ctx)
    qtbot.addWidget(dash)
    dash.resize(1280, 860)
    dash.show()
    qtbot.waitExposed(dash)
    qtbot.waitUntil(lambda: dash.result is not None, timeout=10000)
    assert dash.judge.currentText() == JUDGE and dash.humans.currentText() == "reviewers"
    res = dash.result
    assert res.n_overlap == 60 and 0.5 < res.agreement <= 1 and res.kappa > 0
    assert int(res.confusion.to_numpy().sum()) == 60
    assert set(res.by_dataset["dataset"]) <= {"helpful_base", "koala"}
    image = dash.grab().toImage()
    assert distinct_colours(image) > 50  # text, bars, heat map and dots: not blank
    assert image.save(str(tmp_path / "dashboard.png"))  # never into the repository
    for key, panel in dash.panels.items():
        png, csv = tmp_path / f"{key}.png", tmp_path / f"{key}.csv"
        assert panel.export_png(png) and QImage(str(png)).width() > 100
        panel.export_csv(csv)
        assert len(pd.read_csv(csv)) >= 1


def _shown_dashboard(qtbot, store):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.dashboard import Dashboard

    ctx = AppContext(store=store, db_path=None)
    dash = Dashboard(ctx)
    qtbot.addWidget(dash)
    dash.show()
    qtbot.waitUntil(lambda: dash.result is not None, timeout=10000)
    return ctx, dash


def test_dashboard_is_live(sample_store, qtbot):
    ctx, dash = _shown_dashboard(qtbot, sample_store)
    before = dash.result.n_overlap
    sample_audit(sample_store, JUDGE, 5, "uniform", seed=2)
    simulate_reviews(sample_store, 5, seed=3)
    ctx.events.annotations_changed.emit(None)
    qtbot.waitUntil(lambda: dash.result.n_overlap == before + 5, timeout=10000)


def test_hidden_dashboard_does_not_recompute_per_label_and_refreshes_when_shown(sample_store, qtbot):
    ctx, dash = _shown_dashboard(qtbot, sample_store)
    started, before = dash.runner.started, dash.result.n_overlap
    dash.hide()
    sample_audit(sample_store, JUDGE, 5, "uniform", seed=2)
    for seed in range(5):  # five labels, one event each, while another screen is shown
        simulate_reviews(sample_store, 1, seed=10 + seed)
        ctx.events.annotations_changed.emit(None)
    qtbot.wait(600)  # longer than the debounce: nothing may start
    assert dash.runner.started == started and dash.dirty and dash.result.n_overlap == before
    dash.show()
    qtbot.waitUntil(lambda: dash.result.n_overlap == before + 5, timeout=10000)
    assert dash.runner.started == started + 1 and not dash.dirty


def test_every_shown_statistic_has_a_definition_and_its_n(sample_store, qtbot):
    from tiebreak.core.metrics.definitions import define

    _, dash = _shown_dashboard(qtbot, sample_store)
    table = dash.summary
    names = [dash.panels["summary"].data["name"].iloc[r] for r in range(table.rowCount())]
    assert names[0] == "agreement"
    for r, name in enumerate(names):
        tip = table.item(r, 1).toolTip()
        assert define(name).sentence in tip and "n = " in tip, (name, tip)
    shown = table.item(0, 1).text()
    assert shown == f"{100 * dash.snapshot.agreement.value:.1f}%"
    assert "n = 60 judge labels" in table.item(0, 1).toolTip()
    for key in ("confusion", "datasets", "calibration"):
        assert "n = 60" in dash.panels[key].toolTip()


def test_runner_drops_stale_results_and_runs_one_job_at_a_time(qtbot):
    import threading

    from tiebreak.gui.snapshot_runner import SnapshotRunner

    gate, running = threading.Event(), []
    runner = SnapshotRunner()

    def job(value):
        running.append(value)
        gate.wait(5)
        return value

    results = []
    runner.ready.connect(results.append)
    runner.request(lambda: job(1))
    qtbot.waitUntil(lambda: running == [1])
    runner.request(lambda: job(2))  # superseded before it starts: never runs
    runner.request(lambda: job(3))
    gate.set()
    qtbot.waitUntil(lambda: results == [3], timeout=5000)
    assert running == [1, 3] and runner.started == 2 and not runner.busy
