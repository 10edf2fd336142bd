"""The human-vs-judge dashboard renders on the bundled sample, follows new labels, exports panels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtGui import QImage

from tiebreak.core.domain import Choice
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.review.session import ReviewSession
from tiebreak.core.sample import open_database

JUDGE = "weighted_alpaca_eval_gpt4_turbo"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def simulate_reviews(store, n, seed=0):
    """A seeded stand-in reviewer: follows the judge's side 75% of the time, else answers at random."""
    rng = np.random.default_rng(seed)
    session = ReviewSession.open_review(store, "sim-reviewer", JUDGE)
    for _ in range(n):
        shown = session.current()
        if shown is None:
            break
        f = session.verdicts[shown.pair.comparison_id]["f"]
        model_wins = f > 0.5 if rng.random() < 0.75 else rng.random() < 0.5
        model_left = shown.swapped
        choice = Choice.TIE_GOOD if rng.random() < 0.08 else (
            Choice.LEFT if model_wins == model_left else Choice.RIGHT)
        blind = session.record(choice)
        session.accept(session.reveal(blind))
    return session


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
    assert dash.judge.currentText() == JUDGE and dash.humans.currentText() == "reviewers"
    res = dash.result
    assert res.n_overlap == 60 and 0.5 < res.agreement <= 1 and res.kappa > 0
    assert int(res.confusion.to_numpy().sum()) == 60
    assert set(res.by_dataset["dataset"]) <= {"helpful_base", "koala"}
    image = dash.grab().toImage()
    assert distinct_colours(image) > 50  # text, bars, heat map and dots: not blank
    SCREENSHOTS.mkdir(exist_ok=True)
    assert image.save(str(SCREENSHOTS / "dashboard.png"))
    for key, panel in dash.panels.items():
        png, csv = tmp_path / f"{key}.png", tmp_path / f"{key}.csv"
        assert panel.export_png(png) and QImage(str(png)).width() > 100
        panel.export_csv(csv)
        assert len(pd.read_csv(csv)) >= 1


def test_dashboard_is_live(sample_store, qtbot):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.dashboard import Dashboard

    ctx = AppContext(store=sample_store, db_path=None)
    dash = Dashboard(ctx)
    qtbot.addWidget(dash)
    before = dash.result.n_overlap
    sample_audit(sample_store, JUDGE, 5, "uniform", seed=2)
    simulate_reviews(sample_store, 5, seed=3)
    with qtbot.waitSignal(dash._timer.timeout, timeout=2000):
        ctx.events.annotations_changed.emit(None)
    assert dash.result.n_overlap == before + 5
