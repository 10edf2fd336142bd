"""The comparisons behind each dashboard cell, bar and point; Browse's exact-ids filter."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.judges_db import DATASETS, HUMANS, JUDGES, category, several_judges_db
from tiebreak.core.browse.items import BrowseCursor, BrowseError, BrowseFilter
from tiebreak.core.browse.sql import comparison_ids, list_rows
from tiebreak.core.review.dashboard import items_of, read_labels, summarise
from tiebreak.core.store import Store


@pytest.fixture(scope="module")
def judges(tmp_path_factory):
    path = tmp_path_factory.mktemp("judges") / "judges.sqlite"
    labels = several_judges_db(path)
    store = Store(path)
    yield store, labels
    store.close()


@pytest.mark.parametrize("judge", JUDGES)
def test_items_of_each_cell_dataset_and_bin_are_the_inserted_ones(judges, judge):
    store, labels = judges
    snap = summarise(read_labels(store, judge, HUMANS), judge, HUMANS)
    both = sorted(c for c in labels.humans if c in labels.judges[judge])
    judge_p = {c: float(np.mean(labels.judges[judge][c])) for c in both}
    human_p = {c: sorted(labels.humans[c])[1] for c in both}  # two of three agree: the median is the majority
    counts = snap.comparison.confusion.to_numpy()
    for i in range(3):
        for j in range(3):
            want = [c for c in both if category(judge_p[c]) == i and category(human_p[c]) == j]
            assert items_of(snap, judge_category=i, human_category=j) == want
            assert counts[i, j] == len(want)  # the matrix counts exactly those items
    for ds in DATASETS:
        assert items_of(snap, dataset=ds) == [c for c in both if labels.dataset[c] == ds]
    for k in range(5):
        want = [c for c in both if min(int((judge_p[c] - 1) * 5), 4) == k]
        assert items_of(snap, calibration_bin=k) == want
        assert snap.comparison.calibration["n"].iloc[k] == len(want)


def test_items_of_rejects_an_unknown_column_and_is_empty_without_pairs(judges):
    store, _ = judges
    snap = summarise(read_labels(store, JUDGES[0], HUMANS), JUDGES[0], HUMANS)
    with pytest.raises(ValueError, match="unknown column"):
        items_of(snap, verdict=1)
    empty = summarise(read_labels(store, JUDGES[0], "nobody"), JUDGES[0], "nobody")
    assert items_of(empty, judge_category=0, human_category=0) == []


def test_browse_ids_filter_is_exact_and_combines_with_the_others(judges):
    store, labels = judges
    every = comparison_ids(store)
    pick = every[3:40:4]
    assert comparison_ids(store, f=BrowseFilter(ids=tuple(reversed(pick)))) == pick  # browse order kept
    assert [r["comparison_id"] for r in list_rows(store, BrowseFilter(ids=tuple(pick)))] == pick
    koala = [c for c in pick if labels.dataset[c] == "koala"]
    assert comparison_ids(store, f=BrowseFilter(ids=tuple(pick), dataset="koala")) == koala
    assert comparison_ids(store, f=BrowseFilter(ids=())) == []
    many = tuple(range(1, 60_000)) + tuple(pick)  # more ids than SQLite allows parameters
    assert comparison_ids(store, f=BrowseFilter(ids=many, generators=("cand-a",))) == \
        [c for c in every if c in set(many) and c in cand_a(store)]  # fmt: skip


def cand_a(store):
    return {r[0] for r in store.conn.execute(
        "SELECT c.id FROM comparisons c JOIN outputs o ON o.id = c.output_2_id WHERE o.generator = 'cand-a'")}


def test_browse_cursor_rejects_ids_that_are_not_integers(judges):
    store, _ = judges
    with pytest.raises(BrowseError, match="'7' is not an integer"):
        BrowseCursor(store, f=BrowseFilter(ids=(1, "7")))  # type: ignore[arg-type]
    assert BrowseCursor(store, f=BrowseFilter(ids=(2, 1))).ids == [1, 2]


def test_group_choices_name_every_judge_and_human_group(judges):
    from tiebreak.core.review.dashboard import group_choices

    store, _ = judges
    assert group_choices(store) == (sorted(JUDGES), [HUMANS])
    by_kind = {k: sorted({g["group"] for g in store.groups() if g["kind"] == k}) for k in ("judge", "human")}
    assert group_choices(store) == (by_kind["judge"], by_kind["human"])  # the same names as the counting query


@pytest.mark.parametrize("judge", JUDGES)
def test_the_dashboards_lean_read_gives_the_figures_of_the_full_annotation_frame(judges, judge):
    import pandas as pd

    store, _ = judges
    lean = summarise(read_labels(store, judge, HUMANS), judge, HUMANS)
    full = summarise(store.annotations_frame(groups=[judge, HUMANS], with_texts=False), judge, HUMANS)
    assert lean.agreement == full.agreement
    a, b = lean.comparison, full.comparison
    assert (a.n_overlap, a.agreement, a.agreement_no_ties, a.kappa, a.notes) == (
        b.n_overlap, b.agreement, b.agreement_no_ties, b.kappa, b.notes)
    for name in ("confusion", "summary", "by_dataset", "calibration"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(lean.items, full.items)
