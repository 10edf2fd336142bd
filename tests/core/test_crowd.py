"""Tests for tiebreak.core.crowd.quality: annotator quality and item overlap over simulated crowds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tiebreak.core.crowd.quality import (
    TOO_FEW_NOTE,
    CrowdError,
    annotator_quality,
    crowd_report,
    item_coverage,
)
from tiebreak.core.store import Store

ACCURACIES = (0.95, 0.8, 0.65, 0.45)


def simulate_crowd(
    store: Store, n_items: int = 60, accuracies=ACCURACIES, *, seed: int = 7, group: str = "humans",
    seconds=(20.0, 12.0, 8.0, 2.0), skip: float = 0.0,
) -> list[int]:  # fmt: skip
    """Workers f"{group}/{i}" label items right with probability accuracies[i] (else a random
    other class of 1, 1.5, 2); each label is skipped with probability ``skip``. Returns cids."""
    rng = np.random.default_rng(seed)
    classes = np.array([1.0, 1.5, 2.0])
    truth = rng.choice(classes, size=n_items, p=[0.45, 0.1, 0.45])
    cids = []
    with store.transaction() as tx:
        workers = [tx.annotator_id(f"{group}/{i}", "human", group=group, member=i) for i in range(len(accuracies))]
        for u in range(n_items):
            ins = tx.instruction_id(f"crowd instruction {u}")
            cid = tx.comparison_id(ins, tx.output_id(ins, "ref", f"r{u}"), tx.output_id(ins, "cand", f"c{u}"))
            cids.append(cid)
            for w, (acc, sec) in enumerate(zip(accuracies, seconds, strict=True)):
                if rng.random() < skip:
                    continue
                right = rng.random() < acc
                label = truth[u] if right else rng.choice(classes[classes != truth[u]])
                tx.add_annotation(comparison_id=cid, annotator_id=workers[w], preference=float(label),
                                     seconds=sec, source="label")  # fmt: skip
    return cids


def _frame(rows):
    """A minimal annotations frame: (annotation_id, comparison_id, annotator_name, preference, seconds)."""
    df = pd.DataFrame(rows, columns=["annotation_id", "comparison_id", "annotator_name", "preference", "time_per_example"])
    return df.assign(annotator="humans", retracted_at=None)


def test_accurate_annotator_scores_highest(store):
    simulate_crowd(store, n_items=80)
    table = annotator_quality(store.annotations_frame(groups=["humans"]), "humans").set_index("annotator")
    assert list(table.index) == ["humans/0", "humans/1", "humans/2", "humans/3"]
    assert table["agreement"].idxmax() == "humans/0"
    assert table["ds_accuracy"].idxmax() == "humans/0"
    assert table["ds_accuracy"].is_monotonic_decreasing
    assert table.loc["humans/0", "ds_accuracy"] == pytest.approx(0.95, abs=0.08)
    assert (table["n_labels"] == 80).all() and (table["n_shared"] == 80).all()


def test_leave_one_out_agreement_by_hand():
    # item 1: a=1, b=1, c=2 ; item 2: a=2, b=1.5, c=2
    frame = _frame([
        (1, 1, "a", 1.0, 10.0), (2, 1, "b", 1.0, 10.0), (3, 1, "c", 2.0, 10.0),
        (4, 2, "a", 2.0, 10.0), (5, 2, "b", 1.5, 10.0), (6, 2, "c", 2.0, 10.0),
    ])  # fmt: skip
    table = annotator_quality(frame, "humans").set_index("annotator")
    # a: others {1, 2} -> tie to the larger 2, score 0; others {1.5, 2} -> 2, score 1 => 0.5
    # b: others {1, 2} -> 2, score 0; others {2, 2} -> 2, |1.5 - 2| -> 0.5 => 0.25
    # c: others {1, 1} -> 1, score 0; others {2, 1.5} -> 2, score 1 => 0.5
    assert table["agreement"].to_dict() == {"a": 0.5, "b": 0.25, "c": 0.5}
    assert table.loc["b", "tie_share"] == 0.5 and table.loc["a", "tie_share"] == 0.0
    assert table["too_few"].all() and all(TOO_FEW_NOTE in n for n in table["note"])


def test_too_fast_flag_and_threshold(store):
    simulate_crowd(store, n_items=20)
    frame = store.annotations_frame(groups=["humans"])
    table = annotator_quality(frame, "humans").set_index("annotator")
    assert table["too_fast"].to_dict() == {"humans/0": False, "humans/1": False, "humans/2": False, "humans/3": True}
    assert table.loc["humans/3", "median_seconds"] == 2.0
    assert "too fast: median 2.0 s < 5 s" in table.loc["humans/3", "note"]
    assert not table["too_few"].any()
    stricter = annotator_quality(frame, "humans", too_fast=10.0).set_index("annotator")
    assert stricter["too_fast"].sum() == 2
    with pytest.raises(CrowdError, match="too-fast threshold"):
        annotator_quality(frame, "humans", too_fast=-1)


def test_unknown_time_is_never_too_fast_and_is_noted():
    frame = _frame([(1, 1, "a", 1.0, np.nan), (2, 1, "b", 2.0, 1.0)])
    notes: list[str] = []
    table = annotator_quality(frame, "humans", notes=notes).set_index("annotator")
    assert not table.loc["a", "too_fast"] and table.loc["b", "too_fast"]
    assert np.isnan(table.loc["a", "median_seconds"])
    assert any("1 label(s) without recorded seconds" in n for n in notes)


def test_too_few_shared_items():
    rows = [(i, i, "a", 1.0, 9.0) for i in range(1, 13)]  # a labels 12 items
    rows += [(100 + i, i, "b", 1.0, 9.0) for i in range(1, 13)]  # b shares all 12
    rows += [(200 + i, i, "c", 2.0, 9.0) for i in range(1, 4)]  # c shares only 3
    table = annotator_quality(_frame(rows), "humans").set_index("annotator")
    assert table["n_shared"].to_dict() == {"a": 12, "b": 12, "c": 3}
    assert table["too_few"].to_dict() == {"a": False, "b": False, "c": True}
    assert table.loc["c", "note"] == f"{TOO_FEW_NOTE} (3 < 10)"
    assert table.loc["c", "agreement"] == 0.0


def test_under_annotated_items_and_retractions(store):
    cids = simulate_crowd(store, n_items=5)
    frame = store.annotations_frame(groups=["humans"])
    # retract 2 of the 4 labels of the first item and 1 of the second
    first = frame[frame["comparison_id"] == cids[0]]["annotation_id"].tolist()
    second = frame[frame["comparison_id"] == cids[1]]["annotation_id"].tolist()
    for aid in (first[0], first[1], second[0]):
        with store.transaction() as tx:
            tx.retract_annotation(aid)
    items = item_coverage(store.annotations_frame(groups=["humans"]), "humans", overlap=3).set_index("comparison_id")
    assert items.loc[cids[0], "n_labels"] == 2 and not items.loc[cids[0], "reaches_overlap"]
    assert items.loc[cids[1], "n_labels"] == 3 and items.loc[cids[1], "reaches_overlap"]
    report = crowd_report(store.annotations_frame(groups=["humans"]), "humans", overlap=4)
    assert sorted(report.under_annotated["comparison_id"]) == sorted(cids[:2])
    assert any("2 of 5 item(s) below the target overlap of 4" in n for n in report.notes)
    with pytest.raises(CrowdError, match="overlap"):
        item_coverage(frame, "humans", overlap=0)


def test_unparsed_and_repeated_labels_are_counted():
    frame = _frame([(1, 1, "a", 1.0, 9.0), (2, 1, "a", 2.0, 9.0), (3, 1, "b", np.nan, 9.0), (4, 1, "b", 2.0, 9.0)])
    notes: list[str] = []
    table = annotator_quality(frame, "humans", notes=notes).set_index("annotator")
    assert table.loc["a", "n_labels"] == 1 and table.loc["a", "agreement"] == 1.0  # latest (2.0) kept
    assert any("1 label(s) without a parsed preference" in n for n in notes)
    assert any("1 repeated label(s)" in n for n in notes)


def test_unknown_group_and_empty_group():
    frame = _frame([(1, 1, "a", np.nan, 9.0)])
    with pytest.raises(CrowdError, match="unknown annotator group 'crowd' .known: humans"):
        annotator_quality(frame, "crowd")
    with pytest.raises(CrowdError, match="no live parsed label"):
        annotator_quality(frame, "humans")
