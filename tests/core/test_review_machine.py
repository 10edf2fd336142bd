"""The review state machine: blind -> revealed -> decided, undo back, one transaction per step, and
a reveal that works for every raw-completion shape the importers accept."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tests.core.test_spotcheck_audit import build_spotcheck_store
from tiebreak.core.domain import Choice
from tiebreak.core.formats.importer import import_files
from tiebreak.core.review import sql as rs
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.review.machine import MAX_TEXT_CHARS, ReviewState, judge_text, verdict_text
from tiebreak.core.review.queue import judge_verdicts
from tiebreak.core.review.session import ReviewError, ReviewSession

HUGE = "word " * 400_000  # 2 MB of raw completion
SHAPES = {"missing": ..., "null": None, "nan": float("nan"), "dict": {"choice": "m", "logprobs": [-0.1, -2.3]},
          "string": "Output (b) is better because it answers.", "huge": HUGE}  # fmt: skip


def count(store, table):
    return store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def audited(store):
    build_spotcheck_store(store, n_instructions=6)
    sample_audit(store, "gpt4_judge", 5, "uniform", seed=3)
    return store


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), (float("nan"), None), (np.float64("nan"), None), (pd.NA, None), ("", None), ("  ", None),
    ("why", "why"), ({"a": 1}, '{\n  "a": 1\n}'), ([1, 2], "[\n  1,\n  2\n]"), (3, "3"),
])  # fmt: skip
def test_verdict_text_accepts_every_shape(value, expected):
    assert verdict_text(value) == expected


def test_judge_text_is_always_a_string_and_cuts_huge_texts_with_a_note():
    assert judge_text(float("nan"), None) == "(the judge gave no rationale)"
    assert judge_text(float("nan"), "raw") == "raw" and judge_text("why", "raw") == "why"
    huge = judge_text(None, HUGE)
    assert huge.startswith(HUGE[:MAX_TEXT_CHARS]) and f"{len(HUGE) - MAX_TEXT_CHARS:,} more characters" in huge


def test_states_blind_revealed_decided_and_undo_back_through_them(audited):
    store = audited
    session = ReviewSession.open_review(store, "alice", "gpt4_judge")
    first = session.current().pair.comparison_id
    assert session.state is ReviewState.BLIND and session.step().reveal is None
    with pytest.raises(ReviewError, match="vote first"):
        session.accept()
    blind = session.record(Choice.LEFT)
    step = session.step()
    assert step.state is ReviewState.REVEALED and step.shown.pair.comparison_id == first  # held on screen
    assert step.reveal.blind.row_id == blind.row_id
    with pytest.raises(ReviewError, match="decide the revealed item first"):
        session.record(Choice.RIGHT)  # a second vote while revealed writes nothing
    with pytest.raises(ReviewError, match="decide the revealed item first"):
        session.skip()
    assert count(store, "annotations WHERE source = 'review'") == 1
    decided = session.accept(reason="length")
    assert decided.kind == "decide" and session.state is ReviewState.BLIND
    assert session.current().pair.comparison_id != first
    reopened = session.undo(decided)  # decided -> revealed: the action is retracted, the vote stays
    assert session.state is ReviewState.REVEALED and session.current().pair.comparison_id == first
    live = rs.review_rows(store)
    assert len(live) == 1 and live["action"].isna().all() and int(live["review_id"].iloc[0]) == reopened.row_id
    history = rs.review_rows(store, include_retracted=True)
    assert history["action"].fillna("-").tolist() == ["accept", "-"]  # nothing deleted
    session.undo(blind)  # revealed -> blind
    assert session.state is ReviewState.BLIND and rs.review_rows(store).empty
    assert session.current().pair.comparison_id == first
    redone = session.redo(replace(blind, undone=True))
    assert session.state is ReviewState.REVEALED and redone.row_id == blind.row_id
    session.redo(reopened)
    assert session.state is ReviewState.BLIND and rs.review_rows(store)["action"].tolist() == ["accept"]


def test_blind_vote_and_reveal_commit_together_or_not_at_all(audited):
    store = audited
    session = ReviewSession.open_review(store, "bob", "gpt4_judge")
    shown = session.current()
    n_done, n_ann = session.queue.n_done, count(store, "annotations")
    with store.transaction() as tx:
        tx.execute("""CREATE TRIGGER no_reveal BEFORE INSERT ON review_actions
                          BEGIN SELECT RAISE(ABORT, 'disk full'); END""")
    with pytest.raises(Exception, match="disk full"):
        session.record(Choice.RIGHT)
    assert count(store, "annotations") == n_ann and count(store, "review_actions") == 0  # rolled back
    assert session.state is ReviewState.BLIND and session.queue.n_done == n_done
    assert session.current().pair.comparison_id == shown.pair.comparison_id and session.figures().items_done == 0
    with store.transaction() as tx:
        tx.execute("DROP TRIGGER no_reveal")
    session.record(Choice.RIGHT)
    assert count(store, "review_actions") == 1 and session.state is ReviewState.REVEALED


def test_a_revealed_item_left_undecided_comes_back_revealed(audited):
    store = audited
    s1 = ReviewSession.open_review(store, "carol", "gpt4_judge")
    cid = s1.current().pair.comparison_id
    blind = s1.record(Choice.TIE_BAD)  # the app closes here, before accept / override
    s2 = ReviewSession.open_review(store, "carol", "gpt4_judge")
    step = s2.step()
    assert step.state is ReviewState.REVEALED and step.shown.pair.comparison_id == cid
    assert step.reveal.blind.row_id == blind.row_id and step.reveal.blind.choice is Choice.TIE_BAD
    s2.override(None, Choice.LEFT, reason="factual error")
    assert rs.review_rows(store)["action"].tolist() == ["override"]
    assert s2.state is ReviewState.BLIND and s2.current().pair.comparison_id != cid


def write_verdicts(path, shapes):
    """An AlpacaEval annotations file: one verdict per raw_completion shape (key left out for 'missing')."""
    records = []
    for i, (_name, raw) in enumerate(shapes.items()):
        rec = {"instruction": f"question {i}", "output_1": f"reference answer {i}", "output_2": f"model answer {i}",
               "generator_1": "ref", "generator_2": "model", "annotator": "shape_judge", "preference": 1.0 + (i % 2)}
        if raw is not ...:
            rec["raw_completion"] = raw
        records.append(rec)
    path.write_text(json.dumps(records))  # NaN is written as JSON's NaN literal, as pandas does
    return path


def test_reveal_works_for_every_raw_completion_shape_the_importer_accepts(store, tmp_path):
    import_files(store, [write_verdicts(tmp_path / "verdicts.json", SHAPES)])
    ann = store.annotations_frame(groups=["shape_judge"], with_texts=False)
    raw = judge_verdicts(ann).verdicts["raw_completion"]
    assert raw.map(lambda v: isinstance(v, float) and math.isnan(v)).any()  # the trap: pandas NaN
    sample_audit(store, "shape_judge", len(SHAPES), "uniform", seed=1)
    session = ReviewSession.open_review(store, "dora", "shape_judge")
    texts = []
    while session.current() is not None:
        session.record(Choice.LEFT)
        reveal = session.step().reveal
        assert isinstance(reveal.text, str) and len(reveal.text) <= MAX_TEXT_CHARS + 100
        texts.append(reveal.text)
        session.accept()
    assert len(texts) == len(SHAPES) and rs.review_rows(store)["action"].tolist() == ["accept"] * len(SHAPES)
    assert "(the judge gave no rationale)" in texts and any('"logprobs"' in t for t in texts)
    assert any("more characters not shown" in t for t in texts) and SHAPES["string"] in texts
