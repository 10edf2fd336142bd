"""The leaderboards snapshot equals the CLI's tables; exports write AlpacaEval's CSV safely."""

from __future__ import annotations

import argparse
import math

import pandas as pd
import pytest

from tests.support.boards_data import add_humans
from tiebreak.core.cli import cmd_leaderboard
from tiebreak.core.formats.safe_write import OutputFileError
from tiebreak.core.metrics import evaluator_table
from tiebreak.core.metrics.boards import (
    compute_boards,
    default_gold,
    export_alpaca_eval,
    export_csv,
)
from tiebreak.core.metrics.paired import paired_matrix, per_instruction_scores
from tiebreak.core.metrics.winrate import to_alpaca_eval
from tiebreak.core.store import Store


@pytest.fixture
def db(sample_db):
    add_humans(sample_db)
    return sample_db


def test_snapshot_matches_the_cli_tables(db):
    store = Store(db)
    try:
        snap = compute_boards(store, n_resamples=0)
        args = argparse.Namespace(annotator=None, reference=None, format="json", lc_weights=None,
                                  lc_difficulty=None, min_models=3, resamples=0)
        cli_models = cmd_leaderboard.compute(store, args, bootstrap=False)
        cli_eval = evaluator_table.compute(store, "humans", None, 18.0)
        frame = store.annotations_frame(with_texts=False)
    finally:
        store.close()
    pd.testing.assert_frame_equal(snap.models, cli_models)
    assert snap.gold == "humans"
    pd.testing.assert_frame_equal(snap.evaluators, cli_eval)
    assert list(snap.evaluators.index)[0] == "humans" and len(snap.evaluators) == 2
    ref, group = "gpt4_1106_preview", "weighted_alpaca_eval_gpt4_turbo"
    block = frame[(frame["annotator"] == group)]
    expected = paired_matrix(per_instruction_scores(block))
    pd.testing.assert_frame_equal(snap.paired[(ref, group)], expected)
    assert (ref, "humans") in snap.panels


def test_default_gold_and_empty_database(tmp_path):
    store = Store(tmp_path / "empty.sqlite", create=True)
    try:
        assert default_gold(store) is None
        snap = compute_boards(store, n_resamples=0)
    finally:
        store.close()
    assert snap.models.empty and snap.evaluators is None and snap.panels == []
    assert any("no annotations" in n for n in snap.notes)
    assert any("no human labels" in n for n in snap.notes)


def test_exports(db, tmp_path):
    store = Store(db)
    try:
        snap = compute_boards(store, n_resamples=0)
    finally:
        store.close()
    ref, group = "gpt4_1106_preview", "weighted_alpaca_eval_gpt4_turbo"
    out = export_alpaca_eval(snap, ref, group, tmp_path / "lb.csv")
    read = pd.read_csv(out, index_col=0)
    expected = to_alpaca_eval(snap.panel(ref, group))
    assert list(read.columns) == list(expected.columns)
    assert list(read.index) == list(expected.index)
    assert math.isclose(read["win_rate"].iloc[0], expected["win_rate"].iloc[0])
    with pytest.raises(OutputFileError):
        export_alpaca_eval(snap, ref, group, tmp_path / "lb.csv")  # exists: refused
    with pytest.raises(OutputFileError):
        export_csv(snap.evaluators, db, force=True, protect=db)  # never the open database
    plain = export_csv(snap.evaluators, tmp_path / "ev.csv")
    back = pd.read_csv(plain)
    assert back.iloc[0, 0] == "humans" and "Human agreement" in back.columns
