"""AlpacaEval leaderboard rows: parity with published leaderboards (through the DB) and oracles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from alpaca_eval.metrics import get_winrate

from tiebreak.core.metrics import EmptySelection, MetricsError
from tiebreak.core.metrics import sql as q
from tiebreak.core.metrics.winrate import (
    avg_length,
    clean_preferences,
    from_sums,
    leaderboard,
    leaderboard_row,
    to_alpaca_eval,
)
from tiebreak.core.store import Store, UnknownName

ROW_COLUMNS = [
    "win_rate",
    "standard_error",
    "n_wins",
    "n_wins_base",
    "n_draws",
    "n_total",
    "discrete_win_rate",
]
ANNOTATION_FILES = [
    ("FuseChat-Gemma-2-9B-Instruct", "weighted_alpaca_eval_gpt4_turbo"),
    ("FuseChat-Llama-3.2-3B-Instruct", "weighted_alpaca_eval_gpt4_turbo"),
    ("NullModel", "weighted_alpaca_eval_gpt4_turbo"),
    ("alpaca-7b", "alpaca_eval_cot_gpt4_turbo_fn"),
    ("alpaca-7b", "alpaca_eval_gpt4"),
    ("alpaca-7b", "weighted_alpaca_eval_gpt4_turbo"),
    ("claude-2.1", "weighted_alpaca_eval_gpt4_turbo"),
    ("gpt-3.5-turbo-1106", "weighted_alpaca_eval_gpt4_turbo"),
]


def generator_name(folder: str) -> str:
    """NullModel's files name their generator ``example``; the leaderboard keys it by folder."""
    return "example" if folder == "NullModel" else folder


def test_every_sample_file_is_covered(alpaca_dir):
    found = sorted(
        (p.parts[-3], p.parts[-2]) for p in (alpaca_dir / "results").glob("*/*/annotations.json")
    )
    assert found == sorted(ANNOTATION_FILES)


@pytest.mark.parametrize(("folder", "judge"), ANNOTATION_FILES)
def test_parity_with_published_leaderboard_through_the_database(
    metrics_sample_db, alpaca_dir, folder, judge
):
    published = pd.read_csv(
        alpaca_dir / "leaderboards" / f"{judge}_leaderboard.csv", index_col=0
    ).loc[folder]
    store = Store(metrics_sample_db)
    try:
        frame = q.metric_frame(store, groups=[judge], generators=[generator_name(folder)])
        lengths = q.generator_lengths(store)
        sums = q.winrate_sums(store, groups=[judge], generators=[generator_name(folder)])
        kept_lengths = q.avg_lengths(store)
    finally:
        store.close()
    # the trigger-kept aggregate (winrate_sums / generator_length_sums tables), no row scan
    fast = to_alpaca_eval(from_sums(sums, kept_lengths)).loc[generator_name(folder)]
    table = leaderboard(frame)
    table["avg_length"] = lengths.loc[generator_name(folder), "avg_length"]
    row = to_alpaca_eval(table).loc[generator_name(folder)]
    for col in ROW_COLUMNS:
        assert row[col] == pytest.approx(published[col], abs=1e-6), col
        assert fast[col] == pytest.approx(published[col], abs=1e-6), col
    assert int(row["avg_length"]) == int(published["avg_length"])
    assert int(fast["avg_length"]) == int(published["avg_length"])
    if (alpaca_dir / "results" / folder / "model_outputs.json").exists():
        outputs = pd.read_json(alpaca_dir / "results" / folder / "model_outputs.json")
        assert int(row["avg_length"]) == int(outputs["output"].str.len().mean())


def test_all_models_at_once_equal_one_at_a_time(metrics_sample_db):
    store = Store(metrics_sample_db)
    frame = q.metric_frame(store)
    store.close()
    table = leaderboard(frame)
    assert len(table) == len(ANNOTATION_FILES)
    for key, block in frame.groupby(["generator_2", "generator_1", "annotator"]):
        single = leaderboard_row(block["preference"])
        for col in ROW_COLUMNS:
            assert table.loc[key, col] == pytest.approx(single[col], rel=1e-12, nan_ok=True)


def _oracle(prefs: list[float | None]) -> dict:
    out = get_winrate(pd.DataFrame({"preference": prefs}))
    return {k: float(v) for k, v in out.items()}


@pytest.mark.parametrize("seed", range(5))
def test_matches_alpaca_eval_get_winrate_on_messy_synthetic_preferences(seed):
    rng = np.random.default_rng(seed)
    n = 200
    prefs = rng.choice([1.0, 2.0, 1.5, 0.0], size=n).astype(object)
    soft = rng.random(n) < 0.4
    prefs[soft] = 1 + rng.random(soft.sum())
    prefs[rng.random(n) < 0.05] = None
    prefs[rng.random(n) < 0.03] = -1.0
    ours = leaderboard_row(list(prefs))
    theirs = _oracle(list(prefs))
    for col in ROW_COLUMNS:
        factor = 100 if col in {"win_rate", "standard_error", "discrete_win_rate"} else 1
        assert ours[col] * factor == pytest.approx(theirs[col], abs=1e-9), col
    assert ours["n_dropped"] == n - ours["n_total"] > 0
    assert f"{ours['n_dropped']} unparsed row(s) dropped" in ours["note"]


def test_legacy_zero_is_a_draw_and_nulls_are_dropped():
    x, dropped = clean_preferences([0, 1, 2, None, float("nan"), -1, 1.5, 2.5])
    assert list(x) == [0.5, 0.0, 1.0, 0.5]
    assert dropped == 4


def test_binary_judge_discrete_equals_win_rate():
    row = leaderboard_row([1, 2, 2, 1.5, 0, 2])
    assert row["discrete_win_rate"] == pytest.approx(row["win_rate"])
    assert (row["n_wins"], row["n_wins_base"], row["n_draws"], row["n_total"]) == (3, 1, 2, 6)


def test_empty_selection_is_a_named_error():
    with pytest.raises(EmptySelection, match="empty selection"):
        leaderboard_row([])
    with pytest.raises(EmptySelection):
        leaderboard(
            pd.DataFrame({"generator_2": [], "generator_1": [], "annotator": [], "preference": []})
        )


def test_single_label_has_no_standard_error_and_says_why():
    row = leaderboard_row([2.0])
    assert row["win_rate"] == 1.0 and row["n_total"] == 1
    assert math.isnan(row["standard_error"])
    assert "standard error undefined" in row["note"]


def test_all_ties():
    row = leaderboard_row([1.5] * 10)
    assert row["win_rate"] == 0.5 and row["standard_error"] == 0.0 and row["n_draws"] == 10
    assert row["discrete_win_rate"] == 0.5


def test_only_nulls_gives_nan_with_reason_not_zero():
    row = leaderboard_row([None, float("nan"), None])
    assert row["n_total"] == 0 and row["n_dropped"] == 3
    assert math.isnan(row["win_rate"]) and math.isnan(row["discrete_win_rate"])
    assert "no parsed labels" in row["note"]


def test_missing_column_is_named():
    with pytest.raises(MetricsError, match="annotator"):
        leaderboard(pd.DataFrame({"generator_2": ["a"], "generator_1": ["b"], "preference": [1.0]}))


def test_avg_length_truncates_like_alpaca_eval():
    assert avg_length([3, 4, 4]) == 3
    assert avg_length([]) is None


def test_to_alpaca_eval_is_percent_and_refuses_duplicate_models():
    frame = pd.DataFrame({
        "generator_2": ["m", "m", "n"], "generator_1": ["r", "r", "r"],
        "annotator": ["j", "k", "j"], "preference": [2.0, 1.0, 1.5],
    })  # fmt: skip
    with pytest.raises(MetricsError, match="more than once"):
        to_alpaca_eval(leaderboard(frame))
    table = to_alpaca_eval(leaderboard(frame[frame.annotator == "j"]))
    assert list(table.index) == ["m", "n"] and table.loc["m", "win_rate"] == 100.0


def test_unknown_names_raise(metrics_sample_db):
    store = Store(metrics_sample_db)
    try:
        with pytest.raises(UnknownName, match="nobody"):
            q.metric_frame(store, groups=["nobody"])
        with pytest.raises(UnknownName, match="no-such-model"):
            q.metric_frame(store, generators=["no-such-model"])
    finally:
        store.close()


def test_null_preferences_in_the_database_are_counted(store):
    with store.transaction() as tx:
        iid = tx.instruction_id("Say hi")
        ref = tx.output_id(iid, "ref", "hi")
        cids = [tx.comparison_id(iid, ref, tx.output_id(iid, "m", f"hello {i}")) for i in range(4)]
        judge = tx.annotator_id("j", "judge")
        for cid, p in zip(cids, [2.0, None, 1.0, None], strict=True):
            tx.add_annotation(comparison_id=cid, annotator_id=judge, preference=p, source="judge")
        other = tx.annotator_id("broken", "judge")
        tx.add_annotation(comparison_id=cids[0], annotator_id=other, preference=None, source="judge")
    table = leaderboard(q.metric_frame(store))
    row = table.loc[("m", "ref", "j")]
    assert (row["n_total"], row["n_dropped"], row["win_rate"]) == (2, 2, 0.5)
    fast = from_sums(q.winrate_sums(store))
    assert fast.loc[("m", "ref", "j"), ["n_total", "n_dropped", "win_rate"]].tolist() == [2, 2, 0.5]
    broken = fast.loc[("m", "ref", "broken")]
    assert broken["n_total"] == 0 and broken["n_dropped"] == 1 and math.isnan(broken["win_rate"])
    assert "no parsed labels" in broken["note"]
    assert broken["note"] == table.loc[("m", "ref", "broken"), "note"]


def test_full_leaderboard_takes_its_rows_from_the_aggregate(metrics_sample_db):
    from tiebreak.core.metrics.leaderboard import full_leaderboard

    store = Store(metrics_sample_db)
    try:
        frame = q.metric_frame(store)
        rows = from_sums(q.winrate_sums(store), q.avg_lengths(store))
        lengths = q.generator_lengths(store)["avg_length"].to_dict()
        narrow = from_sums(q.winrate_sums(store, groups=["alpaca_eval_gpt4"]), {})
    finally:
        store.close()
    kept = full_leaderboard(frame, rows=rows, bootstrap=False)
    scanned = full_leaderboard(frame, lengths, bootstrap=False)
    assert kept.index.equals(scanned.index) and list(kept.columns) == list(scanned.columns)
    for col in kept.columns:
        if kept[col].dtype.kind == "f":
            assert kept[col].to_numpy() == pytest.approx(
                scanned[col].to_numpy(), abs=1e-12, nan_ok=True
            ), col
        else:
            assert kept[col].tolist() == scanned[col].tolist(), col
    with pytest.raises(MetricsError, match="do not match"):
        full_leaderboard(frame, rows=narrow, bootstrap=False)


def test_from_sums_names_missing_columns_and_ignores_extra_ones():
    sums = pd.DataFrame(
        {"n_rows": [3], "n_total": [2], "sum_x": [1.5], "sum_x2": [1.25], "n_wins": [1],
         "n_wins_base": [0], "n_draws": [1], "label": ["extra"]},
        index=pd.Index(["m"], name="generator_2"),
    )  # fmt: skip
    row = from_sums(sums, {"m": 7}).loc["m"]
    assert (row["win_rate"], row["n_dropped"], row["avg_length"]) == (0.75, 1, 7.0)
    assert row["standard_error"] == pytest.approx(0.25)  # values 1 and 0.5: sd 0.3536 / sqrt 2
    with pytest.raises(MetricsError, match="sum_x2"):
        from_sums(sums.drop(columns="sum_x2"))


def test_lean_frame_equals_metric_frame_on_the_samples(metrics_sample_db) -> None:
    """The leaderboard's integer read equals the joined read: whole database and each filter."""
    from tiebreak.core.metrics import sql as q
    from tiebreak.core.store import Store

    store = Store(metrics_sample_db)
    try:
        full = q.metric_frame(store)
        assert len(full) > 1000
        pd.testing.assert_frame_equal(q.lean_frame(store), full)
        group, ref = full["annotator"].iloc[0], full["generator_1"].iloc[-1]
        pd.testing.assert_frame_equal(q.lean_frame(store, groups=[group]), q.metric_frame(store, groups=[group]))
        pd.testing.assert_frame_equal(
            q.lean_frame(store, groups=[group], references=[ref]),
            q.metric_frame(store, groups=[group], references=[ref]),
        )
    finally:
        store.close()
