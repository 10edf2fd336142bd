"""Human-vs-judge dashboard figures on hand-checked data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score

from tiebreak.core.review.compare import bootstrap_agreement, compare, paired_labels


def _frame(rows):
    cols = ["comparison_id", "dataset", "length_1", "length_2", "annotator", "preference", "swapped", "source"]
    return pd.DataFrame(rows, columns=cols)


def test_paired_labels_and_figures_by_hand():
    # comparison: (dataset, len1, len2, judge prefs over seeds, human prefs)
    spec = {
        1: ("a", 10, 20, [1.9, 1.7], [2.0]),  # judge model, human model (longer chosen by both)
        2: ("a", 10, 5, [1.1], [1.0, 1.0, 2.0]),  # judge ref, human majority ref
        3: ("a", 30, 40, [1.8], [1.5]),  # judge model, human tie
        4: ("b", 50, 10, [1.8], [1.0]),  # judge model (shorter), human ref (longer)
        5: ("b", 10, 10, [1.6], [2.0]),  # judge model, human model, same length
        6: ("b", 10, 10, [1.3], None),  # no human label: left out
    }
    rows = []
    for cid, (ds, l1, l2, jp, hp) in spec.items():
        rows += [(cid, ds, l1, l2, "judge", p, 0, "import") for p in jp]
        rows += [(cid, ds, l1, l2, "humans", p, cid % 2, "label") for p in (hp or [])]
    pairs = paired_labels(_frame(rows), "judge", "humans")
    assert pairs["comparison_id"].tolist() == [1, 2, 3, 4, 5]
    assert pairs.loc[0, "judge_pref"] == pytest.approx(1.8)
    res = compare(pairs, seed=1)
    assert res.n_overlap == 5
    assert res.agreement == pytest.approx(3 / 5)  # 1, 2, 5 agree
    assert res.agreement_no_ties == pytest.approx(3 / 4)  # item 3 (human tie) left out
    assert res.confusion.to_numpy().tolist() == [[1, 0, 0], [0, 0, 0], [1, 1, 2]]
    longer = res.summary.set_index("metric").loc["prefers the longer output"]
    # decided and lengths differ: judge items 1-4 -> the longer output in 1, 2, 3 (not 4)
    assert longer["judge"] == pytest.approx(3 / 4) and longer["n_judge"] == 4
    assert longer["human"] == pytest.approx(1.0)  # items 1, 2, 4 (3 is a tie): all longer
    by = res.by_dataset.set_index("dataset")
    assert by.loc["a", "agreement"] == pytest.approx(2 / 3) and by.loc["b", "agreement"] == pytest.approx(0.5)
    assert (by["lower"] <= by["agreement"]).all() and (by["agreement"] <= by["upper"]).all()
    assert res.calibration["n"].sum() == 5
    assert any("shown order" in n for n in res.notes)


def test_kappa_and_agreement_equal_scikit_learn():
    rng = np.random.default_rng(0)
    j = rng.choice([1.0, 1.5, 2.0], 200)
    h = np.where(rng.random(200) < 0.7, j, rng.choice([1.0, 1.5, 2.0], 200))
    rows = [(i, "d", 1, 2, "judge", j[i], 0, "label") for i in range(200)]
    rows += [(i, "d", 1, 2, "humans", h[i], 0, "label") for i in range(200)]
    res = compare(paired_labels(_frame(rows), "judge", "humans"))
    codes = {1.0: 0, 1.5: 1, 2.0: 2}
    judge_codes, human_codes = [codes[v] for v in j], [codes[v] for v in h]
    assert res.kappa == pytest.approx(cohen_kappa_score(judge_codes, human_codes, labels=[0, 1, 2]), abs=1e-12)
    assert res.agreement == pytest.approx(accuracy_score(human_codes, judge_codes), abs=1e-12)


def test_bootstrap_interval_is_reproducible_and_brackets():
    a = np.array([0, 2, 2, 0, 1, 2] * 10, dtype=float)
    b = np.array([0, 2, 0, 0, 1, 1] * 10, dtype=float)
    lo, hi = bootstrap_agreement(a, b, np.random.default_rng(5))
    assert (lo, hi) == bootstrap_agreement(a, b, np.random.default_rng(5))
    assert lo < np.mean(a == b) < hi and hi - lo < 0.35


def test_no_overlap_is_reported_not_dropped():
    rows = [(1, "d", 1, 2, "judge", 1.9, 0, "import")]
    res = compare(paired_labels(_frame(rows), "judge", "humans"))
    assert res.n_overlap == 0 and res.agreement is None
    assert any("no comparison carries both" in n for n in res.notes)


def test_position_bias_worked_check_docs_statistics_section_4():
    from tiebreak.core.review.compare import position_bias

    slot1_model_first = np.array([0.90, 0.70, 0.60, 0.30, 0.80, 0.55, 0.95, 0.20])
    slot1_model_second = np.array([0.20, 0.60, 0.70, 0.80, 0.30, 0.65, 0.10, 0.75])
    out = position_bias(slot1_model_first, 1 - slot1_model_second)
    assert out["consistency"] == pytest.approx(0.625)
    assert out["order_averaged"] == pytest.approx(0.556, abs=5e-4)
    # slot 1 is chosen 0.625 of the time with the model first and 0.5125 with it second
    assert out["position_effect"] == pytest.approx(0.06875)


def test_judge_both_orders_feed_the_summary():
    rows = []
    for cid, (p_first, p_second) in enumerate([(0.9, 0.2), (0.7, 0.8), (0.3, 0.1)]):
        rows.append((cid, "d", 1, 2, "judge", 1 + p_first, 1, "judge"))  # model shown first
        rows.append((cid, "d", 1, 2, "judge", 1 + p_second, 0, "judge"))
        rows.append((cid, "d", 1, 2, "humans", 2.0, cid % 2, "label"))
    res = compare(paired_labels(_frame(rows), "judge", "humans"))
    summary = res.summary.set_index("metric")
    assert summary.loc["position consistency (judged in both orders)", "judge"] == pytest.approx(2 / 3)
    assert summary.loc["position consistency (judged in both orders)", "n_judge"] == 3
    first = summary.loc["prefers the output shown first"]
    assert first["n_judge"] == 3 and first["n_human"] == 3


def test_human_majority_equals_the_rule_applied_to_each_comparison():
    import numpy as np
    import pandas as pd

    from tiebreak.core.metrics.agreement import majority_vote
    from tiebreak.core.review.compare import human_majority

    rng = np.random.default_rng(5)
    rows = []
    for cid in rng.permutation(300):
        n = int(rng.integers(1, 6))  # 1-5 labels: ties between modes, single labels
        values = rng.choice([1.0, 1.5, 2.0], size=n)
        if cid % 7 == 0:
            values[0] = rng.uniform(1, 2)  # a soft label: the median rule
        rows += [(int(cid), float(v)) for v in values]
    labels = pd.DataFrame(rows, columns=["comparison_id", "preference"])
    got = human_majority(labels)
    expected = labels.groupby("comparison_id")["preference"].apply(lambda s: float(majority_vote([s.tolist()])[0]))
    assert list(got.index) == list(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
