"""Judge metrics against alpaca_eval 0.6.6's analyze.Analyzer (the oracle) on synthetic gold data."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from tiebreak.core.metrics import EmptySelection, MetricsError
from tiebreak.core.metrics.agreement import majority_vote
from tiebreak.core.metrics.judge import (
    COLUMNS,
    EXTRA_COLUMNS,
    UnknownGroup,
    contains_list,
    judge_metrics,
)

KEYS = ["instruction", "output_1", "output_2"]


def synthetic_crossannotations(
    n: int = 50, n_humans: int = 4, n_seeds: int = 4, seed: int = 0, p_missing: float = 0.05
) -> pd.DataFrame:
    """Cross-annotations: humans (ties, a few fractional labels, missing labels), a judge with
    n_seeds seeds (half the labels fractional, ties, unparsed) and a one-seed judge."""
    rng = np.random.default_rng(seed)
    gens = [f"model_{i}" for i in range(8)]
    rows = []
    for c in range(n):
        gen = gens[c % len(gens)]
        quality = rng.normal(0.25 * (c % len(gens)) - 0.9, 0.7)

        def text(who: str, c: int = c) -> str:
            body = " ".join(["word"] * int(rng.integers(5, 120)))
            if rng.random() < 0.3:
                body = "Intro\n- item one\n- item two\n" + body
            if rng.random() < 0.1:
                body = "1. first\n2) second " + body
            return f"{who}:{c} {body}"

        o1, o2 = text("ref"), text(gen)
        if rng.random() < 0.03:
            o2 = o1
        base = dict(instruction=f"instruction {c}", output_1=o1, output_2=o2, generator_1="ref",
                    generator_2=gen, comparison_id=c + 1, length_1=len(o1), length_2=len(o2))  # fmt: skip
        for h in range(n_humans):
            u = quality + rng.normal(0, 1.6)
            p = 2.0 if u > 0.4 else (1.0 if u < -0.4 else 1.5)
            if rng.random() < 0.05:
                p = float(np.round(rng.uniform(1, 2), 2))
            if rng.random() < p_missing:
                p = np.nan
            if c % 10 == 0:  # a 2-2 split: the tie rule decides the target
                p = [1.0, 2.0, 2.0, 1.0][h % 4]
            rows.append(base | dict(annotator="humans", annotator_index=h, annotator_kind="human",
                        preference=p, price_per_example=0.3, time_per_example=float(rng.uniform(10, 90))))  # fmt: skip
        for s in range(n_seeds):
            u = quality + rng.normal(0, 0.8)
            if rng.random() < 0.5:
                p = 1.0 + 1.0 / (1.0 + np.exp(-2 * u))
            else:
                p = 2.0 if u > 0.3 else (1.0 if u < -0.3 else 1.5)
            if rng.random() < p_missing:
                p = np.nan
            if c % 10 == 3:  # a 2-2 split among the seeds (bias) with a null (variance)
                p = [2.0, 1.0, 1.0, 2.0, np.nan][s % 5] if s < 3 or c % 20 == 3 else np.nan
            rows.append(base | dict(annotator="judge", annotator_index=s, annotator_kind="judge",
                        preference=p, price_per_example=float(rng.uniform(1e-3, 2e-3)),
                        time_per_example=float(rng.uniform(0.5, 2))))  # fmt: skip
        u = quality + rng.normal(0, 0.5)
        rows.append(base | dict(annotator="one_seed", annotator_index=0, annotator_kind="judge",
                    preference=2.0 if u > 0 else 1.0, price_per_example=1e-4, time_per_example=0.3))  # fmt: skip
    df = pd.DataFrame(rows)
    df["generator"] = df["generator_2"]  # the column name Analyzer groups by
    return df


def analyzer_rows(df: pd.DataFrame, judges: list[str], n_annotators: int = 4) -> pd.DataFrame:
    """Analyzer's rows for the humans (as alpaca_eval's main.analyze_evaluators does) and judges.

    Runs unmodified under pandas 3.1. Judges only see the complete gold comparisons, as in
    alpaca_eval.analyze.get_crossannotations.
    """
    from alpaca_eval import analyze

    logging.getLogger().setLevel(logging.WARNING)
    gold = df[df["annotator"] == "humans"].reset_index(drop=True)
    an = analyze.Analyzer(gold_crossannotations=gold, gold_annotations=None, n_annotators=n_annotators,
                          seed=0, scoring_rule="absolute")  # fmt: skip
    rows = {"humans": analyze.get_metrics_evaluator(an, an.df_gold_crossannotations, "humans")}
    keys = an.df_gold_crossannotations[KEYS].drop_duplicates()
    for name in judges:
        jd = df[df["annotator"] == name].merge(keys, on=KEYS).reset_index(drop=True)
        rows[name] = analyze.get_metrics_evaluator(an, jd, evaluator_name=name)
    return pd.DataFrame(rows).T.astype(float)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return synthetic_crossannotations()


@pytest.fixture(scope="module")
def oracle(data: pd.DataFrame) -> pd.DataFrame:
    return analyzer_rows(data, ["judge", "one_seed"])


def test_synthetic_data_exercises_ties_fractions_and_missing(data: pd.DataFrame) -> None:
    humans = data[data["annotator"] == "humans"]
    wide = humans.pivot(index="comparison_id", columns="annotator_index", values="preference")
    complete = wide.dropna().to_numpy()
    two_two = [(r == 1).sum() == 2 and (r == 2).sum() == 2 for r in complete]
    assert sum(two_two) >= 3  # the 2-2 tie rule matters
    three_way = [any(sorted(np.delete(r, s)) == [1, 1.5, 2] for s in range(4)) for r in complete]
    assert sum(three_way) >= 3  # leave-one-out 1-1-1 ties occur
    assert wide.isna().any(axis=1).sum() >= 5
    judge = data[data["annotator"] == "judge"]["preference"]
    assert judge.isna().sum() >= 5 and (judge == 1.5).sum() >= 5
    assert (~judge.dropna().isin([1.0, 1.5, 2.0])).sum() >= 50


@pytest.mark.slow  # the Analyzer fixture takes ~5 s
@pytest.mark.parametrize("group", ["humans", "judge", "one_seed"])
def test_every_column_equals_analyzer(data: pd.DataFrame, oracle: pd.DataFrame, group: str) -> None:
    mine = judge_metrics(data, "humans", ["judge", "one_seed"], hourly_rate=None, n_gold=4)
    assert list(mine.columns) == COLUMNS + EXTRA_COLUMNS
    got, want = mine.loc[group, COLUMNS].astype(float), oracle.loc[group, COLUMNS]
    for col in COLUMNS:
        if np.isnan(want[col]):
            assert np.isnan(got[col]), col
        else:
            assert got[col] == pytest.approx(want[col], abs=1e-9, rel=0), col


@pytest.mark.slow
def test_three_humans_two_seeds_equal_analyzer() -> None:
    data = synthetic_crossannotations(40, n_humans=3, n_seeds=2, seed=1, p_missing=0.1)
    want = analyzer_rows(data, ["judge"], n_annotators=3)
    got = judge_metrics(data, "humans", ["judge"], hourly_rate=None)
    np.testing.assert_allclose(got[COLUMNS].to_numpy(float), want[COLUMNS].to_numpy(float),
                               rtol=0, atol=1e-9)  # fmt: skip


def test_one_seed_judge_has_no_bias_or_variance(oracle: pd.DataFrame) -> None:
    assert np.isnan(oracle.loc["one_seed", "Bias"]) and np.isnan(oracle.loc["one_seed", "Variance"])


def test_alpaca_eval_human_constants_plugged_in() -> None:
    # AlpacaEval's humans: 9.2 minutes per 15 examples and $0.30 per example.
    df = synthetic_crossannotations(24)
    humans = df["annotator"] == "humans"
    df.loc[humans, "time_per_example"] = 9.2 * 60 / 15
    want = analyzer_rows(df, [])
    got = judge_metrics(df, "humans", [], hourly_rate=0.3 / (9.2 * 60 / 15) * 3600)
    assert got.loc["humans", "Price [$/1000 examples]"] == pytest.approx(
        want.loc["humans", "Price [$/1000 examples]"], abs=1e-9)  # fmt: skip
    assert got.loc["humans", "Time [seconds/1000 examples]"] == pytest.approx(
        want.loc["humans", "Time [seconds/1000 examples]"], abs=1e-9)  # fmt: skip


def test_human_price_and_time_are_measured(data: pd.DataFrame) -> None:
    got = judge_metrics(data, "humans", ["judge"], hourly_rate=18.0, n_gold=4)
    humans = data[data["annotator"] == "humans"]
    wide = humans.pivot(index="comparison_id", columns="annotator_index", values="preference")
    complete = wide.index[wide.notna().all(axis=1)]
    seconds = humans[humans["comparison_id"].isin(complete)]["time_per_example"]
    assert got.loc["humans", "Time [seconds/1000 examples]"] == pytest.approx(seconds.mean() * 1000)
    assert got.loc["humans", "Price [$/1000 examples]"] == pytest.approx(seconds.mean() * 18 / 3.6)
    doubled = judge_metrics(data, "humans", ["judge"], hourly_rate=36.0)
    assert doubled.loc["humans", "Price [$/1000 examples]"] == pytest.approx(
        2 * got.loc["humans", "Price [$/1000 examples]"])  # fmt: skip


def test_tie_rule_reproduces_alpaca_random_mode() -> None:
    from alpaca_eval.metrics.helpers import _random_mode

    rows = [[1, 2], [2, 1], [1, 1.5], [1.5, 2], [1, 1.5, 2], [2, 1.5, 1], [1, 1, 2, 2],
            [1, 1.5, 1.5, 1], [1, 1.2, 2, 2], [1.5, 1.7], [2, 2, 1]]  # fmt: skip
    for row in rows:
        padded = row + [np.nan] * (4 - len(row))
        assert majority_vote([padded])[0] == _random_mode(pd.Series(row, dtype=float)) or not set(
            row) <= {1, 1.5, 2}  # fmt: skip
    assert majority_vote([[1, 1, 2, 2]])[0] == 2.0
    assert majority_vote([[1, 1.5, 2, np.nan]])[0] == 1.0
    assert majority_vote([[1, 1.2, 2, 2]])[0] == pytest.approx(1.6)  # not discrete: median


def test_extra_columns_are_fractions(data: pd.DataFrame) -> None:
    got = judge_metrics(data, "humans", ["judge"])
    for col in EXTRA_COLUMNS:
        assert got[col].between(-1, 1).all(), col
    assert got.loc["judge", "Raw agreement (no ties)"] >= got.loc["judge", "Raw agreement"]


def test_notes_count_what_was_left_out(data: pd.DataFrame) -> None:
    got = judge_metrics(data, "humans", ["judge"], n_gold=4)
    notes = " | ".join(got.attrs["notes"])
    assert "fewer than 4 parsed labels left out" in notes
    assert "unparsed label(s) on the gold comparisons not counted in # parsed" in notes


def test_n_gold_defaults_to_the_usual_number_of_labels(data: pd.DataFrame) -> None:
    humans = data[data["annotator"] == "humans"]
    complete = humans.groupby("comparison_id")["preference"].count().eq(4).idxmax()
    extra = humans[humans["comparison_id"] == complete].head(1)  # a 5th label, kept out
    more = pd.concat([data, extra.assign(annotator_index=9)])
    got = judge_metrics(more, "humans", ["judge"])
    pd.testing.assert_frame_equal(got, judge_metrics(data, "humans", ["judge"], n_gold=4))


def test_default_judges_are_the_judge_groups(data: pd.DataFrame) -> None:
    got = judge_metrics(data, "humans")
    assert list(got.index) == ["humans", "judge", "one_seed"]


def test_frame_without_comparison_id_uses_text_keys(data: pd.DataFrame) -> None:
    a = judge_metrics(data, "humans", ["judge"])
    b = judge_metrics(data.drop(columns=["comparison_id", "length_1", "length_2"]), "humans", ["judge"])
    pd.testing.assert_frame_equal(a, b)


def test_unknown_groups_are_named() -> None:
    df = synthetic_crossannotations(8)
    with pytest.raises(UnknownGroup, match="gold group 'crowd' not in the frame"):
        judge_metrics(df, "crowd")
    with pytest.raises(UnknownGroup, match=r"judge group\(s\) \['gpt9'\] not in the frame"):
        judge_metrics(df, "humans", ["gpt9"])


def test_bad_input() -> None:
    df = synthetic_crossannotations(8)
    with pytest.raises(MetricsError, match="frame lacks column"):
        judge_metrics(df.drop(columns=["preference"]), "humans")
    with pytest.raises(UnknownGroup):
        judge_metrics(df.iloc[:0], "humans")
    nulls = df.assign(preference=np.where(df["annotator"] == "humans", np.nan, df["preference"]))
    with pytest.raises(EmptySelection, match="gold group 'humans' has no parsed label"):
        judge_metrics(nulls, "humans")
    bad = df.assign(preference=np.where(df.index == 3, 3.0, df["preference"]))
    with pytest.raises(MetricsError, match=r"outside \[1, 2\], first at row 3"):
        judge_metrics(bad, "humans")
    with pytest.raises(MetricsError, match="gold group 'humans' cannot also be a judge"):
        judge_metrics(df, "humans", ["humans"])
    dup = pd.concat([df, df[df["annotator"] == "judge"]])
    with pytest.raises(MetricsError, match="two labels for one comparison and seed"):
        judge_metrics(dup, "humans", ["judge"])


def test_judge_without_gold_overlap_is_an_error() -> None:
    df = synthetic_crossannotations(8)
    df.loc[df["annotator"] == "judge", "comparison_id"] += 1000
    with pytest.raises(EmptySelection, match="judge 'judge' has no label on the gold comparisons"):
        judge_metrics(df, "humans", ["judge"])


def test_all_ties_and_single_label() -> None:
    df = synthetic_crossannotations(8).assign(preference=1.5)
    got = judge_metrics(df, "humans", ["judge"])
    assert got.loc["judge", "Human agreement"] == 100.0
    assert np.isnan(got.loc["judge", "Proba. prefer longer"])  # ties prefer nothing
    assert np.isnan(got.loc["judge", "Spearman corr."])  # no spread in win rates
    assert np.isnan(got.loc["judge", "Cohen's kappa"]) and np.isnan(got.loc["judge", "Krippendorff's alpha"])
    one = synthetic_crossannotations(1, n_humans=1)
    single = judge_metrics(one, "humans", ["one_seed"])
    assert np.isnan(single.loc["humans", "Human agreement"])  # no other human to agree with
    assert single.loc["one_seed", "# parsed"] == 1


def test_judge_with_only_null_labels_gets_a_defined_row() -> None:
    df = synthetic_crossannotations(8)
    df.loc[df["annotator"] == "judge", "preference"] = np.nan
    got = judge_metrics(df, "humans", ["judge"]).loc["judge"]
    assert got["# parsed"] == 0
    assert np.isnan(got[["Human agreement", "Bias", "Variance", "Proba. prefer 1", "Raw agreement"]]
                    .astype(float)).all()  # fmt: skip
    assert got["Price [$/1000 examples]"] > 0  # the failed calls still cost money


def test_contains_list_matches_alpaca_eval() -> None:
    from alpaca_eval.utils import contains_list as alpaca_contains_list

    texts = ["- a", "* b", "• c", "1. x", "2) y", "a. z", "A) q", "plain", "1.5 is a number",
             "  -  spaced", "x\n b) item", "-", "", "a.b", "\n\n3.\tthree"]  # fmt: skip
    for t in texts:
        assert contains_list(t) == alpaca_contains_list(t), t
