"""Review use cases: blind decision, reveal, accept / override with a reason, undo, ad-hoc stream."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.core.test_spotcheck_audit import build_spotcheck_store
from tiebreak.core.domain import Choice
from tiebreak.core.review import sql as rs
from tiebreak.core.review.audit import estimate_audit, sample_audit
from tiebreak.core.review.session import ReviewError, ReviewSession, add_adhoc_items
from tiebreak.core.store import StoreError


@pytest.fixture
def audited(store):
    cids = build_spotcheck_store(store)
    sample_audit(store, "gpt4_judge", 6, "uniform", seed=7)
    return store, cids


def test_probability_stored_before_item_is_shown(audited):
    store, _ = audited
    before = rs.samples(store, "gpt4_judge/audit", "random")
    assert before["inclusion_prob"].notna().all() and before["shown_at"].isna().all()
    session = ReviewSession.open_review(store, "alice", "gpt4_judge")
    shown = session.current()
    n = store.conn.total_changes
    session.current()
    assert store.conn.total_changes == n  # reading the item on screen never writes
    blind = session.record(Choice.LEFT)  # shown_at is stored with the blind vote
    after = rs.samples(store, "gpt4_judge/audit", "random").set_index("comparison_id")
    row = after.loc[shown.pair.comparison_id]
    assert row["shown_at"] is not None and row["drawn_at"] < row["shown_at"]
    assert after["shown_at"].notna().sum() == 1  # only the item shown
    stored = store.conn.execute("SELECT shown_at FROM annotations WHERE id = ?", (blind.row_id,)).fetchone()[0]
    assert row["shown_at"] == stored


def test_blind_then_override_stores_both_decisions(audited):
    store, _ = audited
    session = ReviewSession.open_review(store, "alice", "gpt4_judge")
    shown = session.current()
    blind = session.record(Choice.LEFT)
    reveal = session.reveal(blind)
    assert reveal.judge_preference == pytest.approx(1 + session.verdicts[shown.pair.comparison_id]["f"])
    session.override(reveal, Choice.RIGHT, reason="factual error")
    r = rs.review_rows(store).iloc[0]
    expected_blind = 2.0 if shown.swapped else 1.0
    assert r["blind_preference"] == expected_blind and r["blind_choice"] == "left"
    assert r["action"] == "override" and r["reason"] == "factual error"
    assert r["final_preference"] == (1.0 if shown.swapped else 2.0)
    assert r["judge_preference"] == pytest.approx(reveal.judge_preference)
    ann = store.annotations_frame(sources=["review"], with_texts=False)
    assert len(ann) == 1 and ann["preference"].iloc[0] == expected_blind


def test_accept_custom_reason_and_undo(audited):
    store, _ = audited
    session = ReviewSession.open_review(store, "bob", "gpt4_judge")
    blind = session.record(Choice.TIE_GOOD)
    reveal = session.reveal(blind)
    with pytest.raises(ReviewError, match="custom reason needs a text"):
        session.accept(reveal, reason="custom")
    with pytest.raises(ReviewError, match="unknown reason"):
        session.accept(reveal, reason="vibes")
    session.accept(reveal, reason="custom", reason_text="judge right, I misread")
    r = rs.review_rows(store).iloc[0]
    assert (r["action"], r["final_preference"]) == ("accept", pytest.approx(reveal.judge_preference))
    session.undo(blind)
    assert rs.review_rows(store).empty
    kept = rs.review_rows(store, include_retracted=True)
    assert len(kept) == 1 and kept["retracted_at"].notna().all()
    assert session.current().pair.comparison_id == blind.comparison_id  # back to that item


def test_resume_skips_reviewed_items_and_estimate_uses_blind_labels(audited):
    store, _ = audited
    s1 = ReviewSession.open_review(store, "alice", "gpt4_judge")
    for _ in range(3):
        b = s1.record(Choice.RIGHT)
        s1.accept(s1.reveal(b))
    s2 = ReviewSession.open_review(store, "carol", "gpt4_judge")
    assert s2.queue.n_done == 3 and len(s2.queue.pending) == 3
    est = estimate_audit(store, "gpt4_judge", "gpt4_judge/audit")
    assert any("3 of 6 drawn items" in w for w in est.warnings)


def test_adhoc_stream_is_separate(audited):
    store, cids = audited
    n = add_adhoc_items(store, "gpt4_judge", [cids[("model-a", 1)], cids[("model-b", 2)]], "filter: length")
    assert n == 2
    session = ReviewSession.open_review(store, "dora", "gpt4_judge", stream="adhoc")
    assert session.queue.total == 2
    b = session.record(Choice.LEFT)
    session.override(session.reveal(b), Choice.TIE_BAD, reason="length")
    random_rows = rs.samples(store, "gpt4_judge/audit", "random")
    assert random_rows["review_id"].isna().all()  # the ad-hoc review never lands in the random stream
    with pytest.raises(ReviewError, match="has no items"):
        ReviewSession.open_review(store, "dora", "gpt4_judge", audit_group="empty")


def test_redo_restores_blind_decision_and_action_without_deleting(audited):
    store, _ = audited
    session = ReviewSession.open_review(store, "erin", "gpt4_judge")
    blind = session.record(Choice.LEFT)
    reveal = session.reveal(blind)
    session.override(reveal, Choice.TIE_BAD, reason="length")
    before = rs.review_rows(store).iloc[0].to_dict()
    n_reviews = store.conn.execute("SELECT count(*) FROM review_actions").fetchone()[0]
    n_annotations = store.conn.execute("SELECT count(*) FROM annotations").fetchone()[0]
    undone = session.undo(blind)
    assert rs.review_rows(store).empty and session.current().pair.comparison_id == blind.comparison_id
    assert session.queue.n_done == 0
    with pytest.raises(ReviewError, match="not undone in this review session"):
        session.redo(replace(undone, row_id=-1))
    redone = session.redo(undone)
    assert not redone.undone and session.queue.n_done == 1
    after = rs.review_rows(store).iloc[0].to_dict()
    keep = ("review_id", "blind_preference", "blind_choice", "action", "final_choice", "final_preference",
            "reason", "judge_preference", "acted_at")
    assert {k: after[k] for k in keep} == {k: before[k] for k in keep} and after["retracted_at"] is None
    ann = store.annotations_frame(sources=["review"], with_texts=False)
    assert len(ann) == 1 and int(ann["annotation_id"].iloc[0]) == blind.row_id
    assert store.conn.execute("SELECT count(*) FROM review_actions").fetchone()[0] == n_reviews
    assert store.conn.execute("SELECT count(*) FROM annotations").fetchone()[0] == n_annotations
    assert session.action_of(session.reveal(redone)) == "override"
    samples = rs.samples(store, "gpt4_judge/audit", "random").set_index("comparison_id")
    assert samples.loc[blind.comparison_id, "action"] == "override"


def test_redo_refused_when_the_item_was_reviewed_again(audited):
    store, _ = audited
    session = ReviewSession.open_review(store, "fay", "gpt4_judge")
    first = session.record(Choice.LEFT)
    undone = session.undo(first)
    again = session.record(Choice.RIGHT)  # the same item, decided again
    assert again.comparison_id == first.comparison_id
    with pytest.raises(ReviewError, match="decide the revealed item first"):
        session.redo(undone)  # the machine refuses while the new vote is revealed
    session.accept()
    with pytest.raises(StoreError, match="reviewed again meanwhile"):
        session.redo(undone)
    live = rs.review_rows(store)
    assert len(live) == 1 and live["blind_choice"].iloc[0] == "right"
    assert len(store.annotations_frame(sources=["review"], with_texts=False)) == 1  # rolled back
