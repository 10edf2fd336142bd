"""One definition of agreement: the labelling panel and the dashboard show the same number.

Regression: on the same 60 reviewed items the labelling panel showed 0.769 (AlpacaEval's
1 - |p - majority|) and the dashboard 0.750 (the three-way category match). The items below make
those two old definitions differ; both screens now compute the one *agreement*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from alpaca_eval.metrics.helpers import AbsoluteScoringRule

from tests.support.reviews import JUDGE, simulate_reviews
from tiebreak.core.labelling.session import QueueSpec
from tiebreak.core.labelling.stats import LabellingStats
from tiebreak.core.metrics import MetricsError
from tiebreak.core.metrics.agreement import majority_vote
from tiebreak.core.metrics.consensus import AgreementAccumulator, majority
from tiebreak.core.metrics.definitions import (
    DEFINITIONS,
    TOO_FEW_LABELS,
    define,
    interval_text,
    tooltip,
)
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.review.dashboard import read_labels, summarise
from tiebreak.core.sample import open_database


@pytest.fixture(scope="module")
def reviewed():
    store = open_database(None, sample=True)
    sample_audit(store, JUDGE, 60, "uniform", seed=1)
    simulate_reviews(store, 60)
    yield store
    store.close()


def _oracle(frame: pd.DataFrame, judge: str, humans: str) -> float:
    """AlpacaEval's own scoring rule: judge labels vs the humans' Bayes estimator (mode)."""
    rule = AbsoluteScoringRule()
    h = frame[frame["annotator"] == humans].groupby("comparison_id")["preference"]
    target = h.apply(lambda s: rule._bayes_estimator(s.reset_index(drop=True)))
    j = frame[(frame["annotator"] == judge) & frame["comparison_id"].isin(target.index)]
    return rule.score(j["preference"].to_numpy(), target.loc[j["comparison_id"]].to_numpy())


def test_panel_and_dashboard_show_the_same_agreement(reviewed):
    frame = read_labels(reviewed, JUDGE, "reviewers")
    humans = reviewed.annotations_frame(groups=["reviewers"], with_texts=False)  # with the generators
    reference = humans["generator_1"].unique()
    assert len(reference) == 1
    spec = QueueSpec("someone", str(reference[0]), tuple(sorted(humans["generator_2"].unique())))
    panel = {line.judge: line for line in LabellingStats.load(reviewed, spec, "reviewers").snapshot().agreement}
    dash = summarise(frame, JUDGE, "reviewers")
    assert dash.comparison.n_overlap == 60 == dash.agreement.n_items == panel[JUDGE].n_items
    # the two old definitions differ on these items (0.769 vs 0.750 in the report) ...
    assert abs(dash.comparison.agreement - dash.agreement.value) > 0.005
    # ... and both screens now show the one agreement, equal to AlpacaEval's scoring rule
    assert panel[JUDGE].agreement == dash.agreement.value
    assert dash.agreement.value == pytest.approx(_oracle(frame, JUDGE, "reviewers"), abs=1e-12)


def test_accumulator_follows_labels_and_merges():
    acc = AgreementAccumulator()
    acc.add("judge", "gpt", 1, 1.8)
    acc.add("human", "crowd", 1, 2.0)
    acc.add("human", "crowd", 1, 1.0)  # 1-1 split: the larger value, 2
    assert acc.finalise()["gpt"].value == pytest.approx(0.8)
    other = AgreementAccumulator()
    other.add("human", "crowd", 1, 1.0)  # now 2 x 1.0 vs 1 x 2.0: majority 1
    merged = acc.merge(other)
    assert merged.finalise()["gpt"].value == pytest.approx(0.2)
    acc.retract("human", "crowd", 1, 2.0)
    assert acc.finalise()["gpt"].value == pytest.approx(0.2)
    acc.retract("judge", "gpt", 1, 1.8)
    assert acc.finalise() == {}


@pytest.mark.parametrize("labels", [[1, 1, 2, 2], [1, 1.5], [1, 1.5, 2], [2, 2, 1], [0, 0, 1], [1.2, 1.9, None],
                                    [1.5, 1.5, 2, 2, 1], [2, 1.5, 1.5]])  # fmt: skip
def test_one_majority_everywhere(labels):
    """The scalar rule, the vectorised one and AlpacaEval's Bayes estimator agree."""
    vector = majority_vote(np.array([[np.nan if v is None else v for v in labels]], dtype=float))[0]
    present = pd.Series([1.5 if v == 0 else v for v in labels if v is not None], dtype=float)
    theirs = AbsoluteScoringRule()._bayes_estimator(present)
    assert majority(labels) == vector == pytest.approx(theirs)


def test_registry_defines_every_name_once_with_a_reference():
    assert len({d.label for d in DEFINITIONS.values()}) == len(DEFINITIONS)
    for name, d in DEFINITIONS.items():
        assert d.name == name and d.sentence.endswith(".") and d.reference.startswith("docs/")
    tip = tooltip("agreement", 60, what="judge labels")
    assert "n = 60 judge labels" in tip and "majority" in tip and "docs/metrics.md" in tip
    with pytest.raises(MetricsError, match="no statistic is defined as 'agreemnt'"):
        define("agreemnt")


def test_interval_from_one_label_says_too_few_labels():
    assert interval_text(0.5, 0.5, 1) == TOO_FEW_LABELS
    assert interval_text(None, None, 0) == "—"
    assert interval_text(0.336, 0.706, 20) == "34–71%"
