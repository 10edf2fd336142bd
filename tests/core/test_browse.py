"""Browse use cases: filtered comparison lists, verdicts of one item, preferences in words."""

from __future__ import annotations

import pytest

from tests.gui._data import CANDIDATES, REFERENCE, fill_store
from tiebreak.core.browse import sql as browse_sql
from tiebreak.core.browse.items import BrowseCursor, BrowseError, preference_words


def test_preference_words():
    assert preference_words(1.0, "ref", "cand") == "ref is better"
    assert preference_words(2.0, "ref", "cand") == "cand is better"
    assert preference_words(1.5, "ref", "cand") == "tie"
    assert preference_words(None, "ref", "cand").startswith("no preference")
    assert preference_words(float("nan"), "ref", "cand").startswith("no preference")
    assert preference_words(1.8, "ref", "cand") == "leans to cand (80% probability it is better)"
    assert preference_words(1.25, "ref", "cand") == "leans to ref (75% probability it is better)"
    with pytest.raises(BrowseError, match="outside"):
        preference_words(2.5, "ref", "cand")


def test_filters_and_order(store):
    ids = fill_store(store, 3)
    assert browse_sql.candidate_generators(store) == sorted(CANDIDATES)
    assert browse_sql.comparison_ids(store) == ids  # instruction order, then comparison
    only_a = browse_sql.comparison_ids(store, ["cand-a"])
    assert only_a == [c for c in ids if store.pair(c).generator_2 == "cand-a"] and len(only_a) == 3
    assert browse_sql.comparison_ids(store, group="judge-x") == ids
    with store.transaction() as tx:
        human = tx.annotator_id("alice", "human", group="humans")
        a = tx.add_annotation(comparison_id=ids[4], annotator_id=human, preference=1.0, source="label")
        tx.add_annotation(comparison_id=ids[1], annotator_id=human, preference=2.0, source="label")
    assert browse_sql.comparison_ids(store, group="humans") == [ids[1], ids[4]]
    assert browse_sql.comparison_ids(store, ["cand-a"], group="humans") == [ids[4]]
    with store.transaction() as tx:
        tx.retract_annotation(a)  # retracted labels no longer count
    assert browse_sql.comparison_ids(store, group="humans") == [ids[1]]


def test_verdicts_judges_first_then_humans_live_only(store):
    ids = fill_store(store, 1)
    with store.transaction() as tx:
        human = tx.annotator_id("alice", "human", group="humans")
        live = tx.add_annotation(comparison_id=ids[0], annotator_id=human, preference=1.5,
                                    rationale="both fine", source="label")  # fmt: skip
        gone = tx.add_annotation(comparison_id=ids[0], annotator_id=human, preference=1.0, source="label")
        tx.retract_annotation(gone)
    rows = browse_sql.verdicts(store, ids[0])
    assert [(r["kind"], r["group"]) for r in rows] == [("judge", "judge-x"), ("human", "humans")]
    assert rows[1]["annotation_id"] == live and rows[1]["rationale"] == "both fine"


def test_cursor_navigation(store):
    ids = fill_store(store, 2)
    cur = BrowseCursor(store)
    item = cur.current()
    assert (item.position, item.total, item.pair.comparison_id) == (1, 4, ids[0])
    assert item.pair.generator_1 == REFERENCE and len(item.verdicts) == 1
    assert not cur.move(-1)  # no wrap at the start
    assert cur.move(1) and cur.current().position == 2
    assert cur.move(10) and cur.current().position == 4  # clamped to the end
    assert not cur.move(1)
    cur.go_to(2)
    assert cur.current().pair.comparison_id == ids[1]
    with pytest.raises(BrowseError, match="outside 1..4"):
        cur.go_to(5)
    assert cur.seek(ids[3]) and cur.index == 3 and not cur.seek(-1)


def test_cursor_rejects_unknown_names_and_handles_empty(store):
    fill_store(store, 1)
    with pytest.raises(BrowseError, match="nope"):
        BrowseCursor(store, ["nope"])
    with pytest.raises(BrowseError, match="'ghosts'"):
        BrowseCursor(store, group="ghosts")
    with store.transaction() as tx:
        tx.annotator_id("bob", "human", group="humans")  # a group with no labels yet
    empty = BrowseCursor(store, group="humans")
    assert empty.total == 0 and empty.current() is None and not empty.move(1)
