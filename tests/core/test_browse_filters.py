"""Browse filters: text, dataset, flagged, disagreements; list rows; flags and review actions."""

from __future__ import annotations

import pytest

from tests.gui._data import fill_store
from tiebreak.core.browse import sql as browse_sql
from tiebreak.core.browse.items import BrowseCursor, BrowseError
from tiebreak.core.browse.sql import BrowseFilter
from tiebreak.core.labelling import sql as labelling_sql
from tiebreak.core.review import sql as review_sql


@pytest.fixture
def ids(store):
    ids = fill_store(store, 3)  # judge-x: candidate better on even ids, reference on odd ones
    with store.transaction() as tx:
        human = tx.annotator_id("alice", "human", group="humans")
        agree = 2.0 if ids[0] % 2 == 0 else 1.0
        tx.add_annotation(comparison_id=ids[0], annotator_id=human, preference=agree)
        blind = tx.add_annotation(comparison_id=ids[1], annotator_id=human, preference=3.0 - (2.0 if ids[1] % 2 == 0 else 1.0))
        tx.add_annotation(comparison_id=ids[2], annotator_id=human, preference=1.5)  # tie vs a side: disagrees
        labelling_sql.add_flag(tx, comparison_id=ids[3], annotator_id=human, session_id=None, note="garbled output")
        rid = review_sql.record_reveal(tx, comparison_id=ids[1], annotator_id=human, blind_annotation_id=blind,
                                    judge_group="judge-x", judge_preference=1.0, judge_confidence=None)
        review_sql.record_action(tx, rid, action="override", final_preference=2.0, final_choice="right",
                                 reason="factual error", reason_text=None)
    return ids


def test_disagreements_flags_and_rows(store, ids):
    assert browse_sql.comparison_ids(store, f=BrowseFilter(disagreements=True)) == [ids[1], ids[2]]
    assert browse_sql.comparison_ids(store, f=BrowseFilter(flagged=True)) == [ids[3]]
    rows = {r["comparison_id"]: r for r in browse_sql.list_rows(store)}
    assert len(rows) == 6
    assert rows[ids[0]]["disagree"] is False and rows[ids[1]]["disagree"] is True
    assert rows[ids[4]]["n_human"] == 0 and rows[ids[4]]["disagree"] is False  # no human: no disagreement
    assert rows[ids[3]]["n_flags"] == 1 and rows[ids[1]]["n_reviews"] == 1
    assert browse_sql.flags(store, ids[3])[0]["note"] == "garbled output"
    review = browse_sql.review_actions(store, ids[1])[0]
    assert (review["reviewer"], review["action"], review["reason"]) == ("alice", "override", "factual error")
    item = BrowseCursor(store, f=BrowseFilter(flagged=True)).current()
    assert item.flags and item.flags[0]["note"] == "garbled output"


def test_text_and_dataset(store, ids):
    assert browse_sql.comparison_ids(store, f=BrowseFilter(text="TOPIC 1")) == ids[2:4]
    assert browse_sql.comparison_ids(store, f=BrowseFilter(text="variant 1")) == ids[1::2]
    assert browse_sql.comparison_ids(store, f=BrowseFilter(text="no such words")) == []
    assert browse_sql.datasets(store) == ["helpful_base"]
    assert browse_sql.comparison_ids(store, f=BrowseFilter(dataset="helpful_base")) == ids
    with pytest.raises(BrowseError, match="unknown dataset"):
        BrowseCursor(store, f=BrowseFilter(dataset="nope"))
    both = BrowseFilter(text="topic", generators=("cand-b",), group="humans")
    assert browse_sql.comparison_ids(store, f=both) == [ids[1]]
