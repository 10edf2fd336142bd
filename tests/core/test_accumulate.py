"""The one win-rate accumulator: the SQL trigger sums, the live path and the batch path agree exactly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from alpaca_eval.metrics import get_winrate
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from tiebreak.core.metrics import MetricsError
from tiebreak.core.metrics import sql as q
from tiebreak.core.metrics.accumulate import SUMS_FIELDS, WinRateSums, finalise
from tiebreak.core.metrics.winrate import from_sums, leaderboard
from tiebreak.core.sample import open_database

PREF = st.one_of(st.sampled_from([1.0, 1.5, 2.0, 0.0, None, float("nan"), -1.0]),
                 st.floats(min_value=1.0, max_value=2.0, allow_nan=False))  # fmt: skip


@pytest.fixture(scope="module")
def sample():
    store = open_database(None, sample=True)
    yield store
    store.close()


def _by_key(frame: pd.DataFrame) -> dict:
    out: dict = {}
    for key, part in frame.groupby(["generator_2", "generator_1", "annotator"]):
        out[key] = WinRateSums.of(part["preference"].tolist())
    return out


def _same(a: WinRateSums, b: WinRateSums) -> None:
    ints = [f for f in SUMS_FIELDS if not f.endswith("_rest")]
    assert [getattr(a, f) for f in ints] == [getattr(b, f) for f in ints]  # exactly
    assert a.sum_x_rest == pytest.approx(b.sum_x_rest, abs=1e-12)
    assert a.sum_x2_rest == pytest.approx(b.sum_x2_rest, abs=1e-12)


def test_trigger_sums_hold_the_accumulators_statistics(sample):
    """The winrate_sums table (kept by triggers) == WinRateSums.add over the same labels."""
    db = q.winrate_accumulators(sample)
    mine = _by_key(sample.annotations_frame(with_texts=False))
    assert set(db) == set(mine) and len(db) > 3
    for key in db:
        _same(db[key], mine[key])
        assert db[key].finalise() == mine[key].finalise() or repr(db[key].finalise()) == repr(mine[key].finalise())


def test_retraction_in_the_database_equals_retraction_in_the_accumulator(sample):
    frame = sample.annotations_frame(with_texts=False)
    judge_rows = frame[frame["annotator_kind"] == "judge"].head(25)
    key = tuple(judge_rows.iloc[0][["generator_2", "generator_1", "annotator"]])
    acc = q.winrate_accumulators(sample)[key]
    mine = [r for r in judge_rows.itertuples() if (r.generator_2, r.generator_1, r.annotator) == key]
    with sample.transaction() as tx:
        for r in mine:
            tx.retract_annotation(int(r.annotation_id))
            acc.retract(r.preference)
    _same(q.winrate_accumulators(sample)[key], acc)
    with sample.transaction() as tx:
        for r in mine:
            tx.restore_annotation(int(r.annotation_id))


def test_sql_batch_and_live_paths_give_the_same_rows(sample):
    frame = sample.annotations_frame(with_texts=False)
    batch = leaderboard(frame)
    stored = from_sums(q.winrate_sums(sample))
    live = {k: v.finalise() for k, v in q.winrate_accumulators(sample).items()}
    for key, row in batch.iterrows():
        for col in ("win_rate", "standard_error", "discrete_win_rate"):
            assert stored.loc[key, col] == pytest.approx(row[col], abs=1e-13, nan_ok=True)
            assert getattr(live[key], col) == pytest.approx(row[col], abs=1e-13, nan_ok=True)
        assert (live[key].n_total, live[key].n_wins, live[key].n_draws) == (row["n_total"], row["n_wins"], row["n_draws"])


def test_finalise_equals_alpaca_eval_get_winrate(sample):
    frame = sample.annotations_frame(with_texts=False)
    for (gen, group), part in frame.groupby(["generator_2", "annotator"]):
        theirs = get_winrate(part.assign(preference=part["preference"].astype(float)))
        ours = WinRateSums.of(part["preference"].tolist()).finalise()
        assert 100 * ours.win_rate == pytest.approx(theirs["win_rate"], abs=1e-9), (gen, group)
        assert 100 * ours.standard_error == pytest.approx(theirs["standard_error"], abs=1e-9)
        assert (ours.n_wins, ours.n_wins_base, ours.n_draws, ours.n_total) == (
            theirs["n_wins"], theirs["n_wins_base"], theirs["n_draws"], theirs["n_total"])


@settings(max_examples=60, deadline=None)
@given(st.lists(PREF, max_size=30), st.lists(PREF, max_size=30))
def test_add_retract_merge(a, b):
    left, right = WinRateSums.of(a), WinRateSums.of(b)
    both = WinRateSums.of(a + b)
    _same(left.merge(right), both)
    for p in b:
        both.retract(p)
    _same(both, left)
    batch = leaderboard(pd.DataFrame({"k": 0, "preference": [np.nan if p is None else p for p in a]}), keys=("k",)) if a else None
    got = left.finalise()
    if batch is not None:
        assert got.win_rate == pytest.approx(batch["win_rate"].iloc[0], abs=1e-12, nan_ok=True)
        assert got.standard_error == pytest.approx(batch["standard_error"].iloc[0], abs=1e-12, nan_ok=True)


def test_interval_is_wilson_and_absent_for_one_label():
    wins = WinRateSums.of([2.0] * 7 + [1.0] * 13).finalise()
    lo, hi = proportion_confint(7, 20, alpha=0.05, method="wilson")  # no ties: the classical Wilson
    assert (wins.low, wins.high) == (pytest.approx(lo, abs=1e-12), pytest.approx(hi, abs=1e-12))
    one = WinRateSums.of([1.5]).finalise()  # the old panel showed "50–50%" here
    assert one.win_rate == 0.5 and math.isnan(one.low) and math.isnan(one.high) and not one.has_interval
    assert "too few labels" in one.note
    assert math.isnan(finalise(0, 2, 0.0, 0.0, 0, 0, 0).win_rate)


def test_from_row_names_what_is_missing():
    with pytest.raises(MetricsError, match="row lacks n_draws"):
        WinRateSums.from_row({f: 0 for f in SUMS_FIELDS if f != "n_draws"})
    assert WinRateSums.from_row(WinRateSums.of([2.0]).as_row()) == WinRateSums.of([2.0])
