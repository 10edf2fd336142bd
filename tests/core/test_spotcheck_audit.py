"""Audit streams over a real SQLite store: probabilities stored first, estimates, imported labels."""

from __future__ import annotations

import numpy as np
import pytest

from tiebreak.core.review import sql as rs
from tiebreak.core.review.audit import AuditError, estimate_audit, sample_audit
from tiebreak.core.review.queue import QueueFilter, filter_queue, judge_verdicts

MODELS = ("model-a", "model-b")


def build_spotcheck_store(store, n_instructions=40, seed=0, humans=0):
    """A store with a judge (2 seeds, both orders for some items) over 2 models and a reference.

    ``humans`` > 0 adds an imported human group 'humans' labelling the first ``humans``
    comparisons of each model. Returns {(model, i): comparison_id}.
    """
    rng = np.random.default_rng(seed)
    cids = {}
    with store.transaction() as tx:
        judge = tx.annotator_id("gpt4_judge", "judge")
        human = tx.annotator_id("humans/0", "human", group="humans", member="0")
        for i in range(n_instructions):
            iid = tx.instruction_id(f"instruction {i}", dataset=("helpful_base", "koala")[i % 2])
            ref = tx.output_id(iid, "reference", "r" * (10 + i))
            for m, model in enumerate(MODELS):
                out = tx.output_id(iid, model, f"{model} answer {i} " + "x" * int(rng.integers(5, 80)))
                cid = tx.comparison_id(iid, ref, out)
                cids[(model, i)] = cid
                q = float(np.clip(rng.beta(1, 1) + 0.1 * m, 0.01, 0.99))
                for s in (0, 1):
                    p = float(np.clip(q + rng.normal(0, 0.05 * s), 0, 1))
                    tx.add_annotation(comparison_id=cid, annotator_id=judge, preference=1 + p, seed=s,
                                         swapped=s, source="import", rationale=f"because {i}")
                if i < humans:
                    y = 2.0 if rng.random() < q else 1.0
                    tx.add_annotation(comparison_id=cid, annotator_id=human, preference=y, source="import")
    return cids


def test_uniform_draw_stores_probabilities_before_showing(store):
    build_spotcheck_store(store)
    rep = sample_audit(store, "gpt4_judge", 10, "uniform", seed=1)
    assert (rep.n_new, rep.population) == (10, 80)
    s = rs.samples(store, rep.audit_group, "random")
    assert len(s) == 10
    assert s["inclusion_prob"].tolist() == pytest.approx([10 / 80] * 10)
    assert s["shown_at"].isna().all()  # stored, nothing shown yet
    inc = rs.inclusion(store, rep.audit_group)
    assert len(inc) == 80 and inc["drawn"].sum() == 10
    # a second batch keeps the union a simple random sample: pi = 15 / 80 for everyone
    rep2 = sample_audit(store, "gpt4_judge", 5, "uniform", seed=2)
    assert rep2.n_new == 5 and rep2.n_in_stream == 15
    s = rs.samples(store, rep.audit_group, "random")
    assert s["comparison_id"].is_unique and len(s) == 15
    last = rs.inclusion(store, rep.audit_group).query("draw_id == @rep2.draw_id")
    assert last["inclusion_prob"].tolist() == pytest.approx([15 / 80] * 80)


def test_stratified_and_uncertainty_designs(store):
    build_spotcheck_store(store)
    rep = sample_audit(store, "gpt4_judge", 9, "stratified", audit_group="strat", seed=3)
    s = rs.samples(store, "strat", "random")
    assert rep.n_new == 9 and len(s) == 9
    inc = rs.inclusion(store, "strat")
    assert set(np.round(inc["inclusion_prob"], 4)) == {round(5 / 40, 4), round(4 / 40, 4)}
    unc = sample_audit(store, "gpt4_judge", 20, "uncertainty", audit_group="unc", seed=4)
    inc = rs.inclusion(store, "unc")
    f = rs.frame(store, "unc")["judge_score"].to_numpy()
    assert inc["inclusion_prob"].min() >= 0.2 * 20 / 80 - 1e-12
    assert inc["inclusion_prob"].sum() == pytest.approx(20)
    # more uncertain verdicts get higher probabilities
    order = np.argsort(np.sqrt(f * (1 - f)))
    assert inc["inclusion_prob"].to_numpy()[order[-1]] > inc["inclusion_prob"].to_numpy()[order[0]]
    assert unc.n_new == int(inc["drawn"].sum())
    with pytest.raises(AuditError, match="uniform"):
        sample_audit(store, "gpt4_judge", 5, "uniform", audit_group="unc")


def test_estimate_from_reviews_and_pending_warning(store):
    build_spotcheck_store(store)
    rep = sample_audit(store, "gpt4_judge", 16, "stratified", seed=5)
    s = rs.samples(store, rep.audit_group, "random")
    with store.transaction() as tx:
        reviewer = tx.annotator_id("alice", "human", group="reviewers")
    for k, row in enumerate(s.itertuples()):
        if k == 15:
            break  # one item left unreviewed
        with store.transaction() as tx:
            a = tx.add_annotation(comparison_id=row.comparison_id, annotator_id=reviewer,
                                     preference=2.0 if k % 3 else 1.0, source="review")
            r = rs.record_reveal(tx, comparison_id=row.comparison_id, annotator_id=reviewer,
                                 blind_annotation_id=a, judge_group="gpt4_judge", judge_preference=1.7,
                                 judge_confidence=0.4, sample_id=row.sample_id)
            rs.record_action(tx, r, action="accept", final_preference=1.7, final_choice=None,
                             reason=None, reason_text=None)
    est = estimate_audit(store, "gpt4_judge", rep.audit_group, target_width=0.2)
    assert any("1 of 16 drawn items have no blind label" in w for w in est.warnings)
    methods = {(r["model"], r["method"]) for r in est.rows}
    for m in MODELS:
        assert {(m, k) for k in ("judge-only", "human-only", "PPI", "PPI++", "Horvitz-Thompson")} <= methods
    ppi = [r for r in est.rows if r["method"] == "PPI"]
    assert all(r["lower"] <= r["estimate"] <= r["upper"] and r["more_reviews"] >= 0 for r in ppi)
    final = estimate_audit(store, "gpt4_judge", rep.audit_group, label="final")
    hum = [r for r in final.rows if r["method"] == "human-only"]
    assert all(r["estimate"] == pytest.approx(0.7) for r in hum)


def test_imported_human_labels_count_as_uniform_with_warning(store):
    build_spotcheck_store(store, humans=12)
    est = estimate_audit(store, "gpt4_judge", "humans")
    assert est.design == "uniform (imported)"
    assert any("treated as a UNIFORM random sample (24 of 80" in w for w in est.warnings)
    assert {r["n_labelled"] for r in est.rows if r["method"] == "PPI"} == {12}
    with store.transaction() as tx:
        rs.mark_group(tx, "humans", "random")
    assert estimate_audit(store, "gpt4_judge", "humans").warnings == []
    with store.transaction() as tx:
        rs.mark_group(tx, "humans", "adhoc")
    with pytest.raises(AuditError, match="marked ad-hoc"):
        estimate_audit(store, "gpt4_judge", "humans")
    with pytest.raises(AuditError, match="neither an audit stream"):
        estimate_audit(store, "gpt4_judge", "nobody")


def test_adhoc_items_never_count_as_random(store):
    cids = build_spotcheck_store(store)
    with store.transaction() as tx:
        rs.add_adhoc(tx, "gpt4_judge/audit", "gpt4_judge", cids[("model-a", 3)], "by hand")
    assert rs.samples(store, "gpt4_judge/audit", "random").empty
    with pytest.raises(AuditError):  # an ad-hoc-only stream has no draws: not an audit
        estimate_audit(store, "gpt4_judge", "gpt4_judge/audit")


def test_queue_filters_and_uncertainty_sort(store):
    build_spotcheck_store(store)
    summary = judge_verdicts(store.annotations_frame(groups=["gpt4_judge"], with_texts=False))
    v = summary.verdicts
    assert len(v) == 80 and summary.n_without_preference == 0
    assert (v["n_verdicts"] == 2).all() and (v["order_gap"] >= 0).all()
    q = filter_queue(v, QueueFilter(models=("model-b",), datasets=("koala",), max_confidence=0.5))
    assert set(q["generator_2"]) == {"model-b"} and set(q["dataset"]) == {"koala"}
    assert (q["confidence"] <= 0.5).all()
    assert q["uncertainty"].is_monotonic_decreasing
    gap = filter_queue(v, QueueFilter(min_length_gap=30, disagreement="orders"))
    assert len(gap) > 0 and (gap["length_gap"].abs() >= 30).all() and (gap["order_gap"] > 0).all()
    assert len(gap) < len(filter_queue(v, QueueFilter(disagreement="orders")))
    with pytest.raises(ValueError, match="disagreement must be"):
        filter_queue(v, QueueFilter(disagreement="moon"))


def test_verdicts_after_the_first_draw_are_reported_outside_the_frame(store):
    build_spotcheck_store(store, n_instructions=10)
    rep = sample_audit(store, "gpt4_judge", 4, "uniform", seed=1)
    with store.transaction() as tx:
        iid = tx.instruction_id("a late instruction")
        cid = tx.comparison_id(iid, tx.output_id(iid, "reference", "r"), tx.output_id(iid, "model-a", "m"))
        judge = tx.annotator_id("gpt4_judge", "judge")
        tx.add_annotation(comparison_id=cid, annotator_id=judge, preference=1.8, source="judge")
        tx.add_annotation(comparison_id=cid, annotator_id=judge, preference=None, seed=1, source="judge")
    est = estimate_audit(store, "gpt4_judge", rep.audit_group)
    assert any("1 verdict(s) of 'gpt4_judge' came after the first draw" in w for w in est.warnings)
    fresh = sample_audit(store, "gpt4_judge", 3, "uniform", audit_group="fresh", seed=2)
    assert fresh.population == 21
    assert any("1 judge annotation(s) without a preference" in n for n in fresh.notes)


def test_uncertainty_stream_estimate_is_horvitz_thompson_with_stored_pi(store):
    from tiebreak.core.review.estimators import horvitz_thompson

    build_spotcheck_store(store, n_instructions=30)
    rep = sample_audit(store, "gpt4_judge", 16, "uncertainty", audit_group="unc", seed=9)
    s = rs.samples(store, "unc", "random")
    with store.transaction() as tx:
        reviewer = tx.annotator_id("zed", "human", group="reviewers")
    y_of = {}
    for k, row in enumerate(s.itertuples()):
        y_of[row.comparison_id] = float(k % 2)
        with store.transaction() as tx:
            a = tx.add_annotation(comparison_id=row.comparison_id, annotator_id=reviewer,
                                     preference=1.0 + k % 2, source="review")
            rs.record_reveal(tx, comparison_id=row.comparison_id, annotator_id=reviewer, blind_annotation_id=a,
                             judge_group="gpt4_judge", judge_preference=1.5, judge_confidence=0.0,
                             sample_id=row.sample_id)
    est = estimate_audit(store, "gpt4_judge", "unc")
    assert est.warnings == [] and rep.n_new == len(s)
    fr = rs.frame(store, "unc").merge(rs.inclusion(store, "unc"), on="comparison_id")
    for model, part in fr.groupby("stratum"):
        rows = {r["method"]: r for r in est.rows if r["model"] == model}
        assert "PPI" not in rows  # not a uniform sample
        lab = part["comparison_id"].isin(y_of).to_numpy()
        if lab.sum() < 2:
            continue
        y = part["comparison_id"].map(y_of).to_numpy(float)
        ht = horvitz_thompson(part["judge_score"], part["inclusion_prob"], lab, y)
        assert rows["Horvitz-Thompson"]["estimate"] == pytest.approx(ht.estimate)


def test_seed_and_order_disagreement_are_told_apart():
    import pandas as pd

    rows = [  # comparison, seed, swapped, preference
        (1, 0, 0, 1.9), (1, 1, 0, 1.2),  # seeds disagree in one order
        (2, 0, 0, 1.9), (2, 0, 1, 1.1),  # the two orders disagree
        (3, 0, 0, 1.8), (3, 1, 0, 1.8), (3, 0, 1, 1.8),  # consistent
        (4, 0, 0, None),  # no preference: counted, not dropped silently
    ]
    df = pd.DataFrame(rows, columns=["comparison_id", "seed", "swapped", "preference"]).assign(
        instruction_id=1, dataset="d", generator_1="ref", generator_2="m", annotator="j",
        length_1=10, length_2=20, rationale=None, raw_completion=None)
    summary = judge_verdicts(df)
    v = summary.verdicts.set_index("comparison_id")
    assert summary.n_without_preference == 1 and list(v.index) == [1, 2, 3]
    assert v.loc[1, "seed_spread"] == pytest.approx(0.7) and np.isnan(v.loc[1, "order_gap"])
    assert v.loc[2, "seed_spread"] == 0 and v.loc[2, "order_gap"] == pytest.approx(0.8)
    seeds = filter_queue(summary.verdicts, QueueFilter(disagreement="seeds", sort="comparison"))
    orders = filter_queue(summary.verdicts, QueueFilter(disagreement="orders"))
    either = filter_queue(summary.verdicts, QueueFilter(disagreement="any", sort="comparison"))
    assert seeds["comparison_id"].tolist() == [1] and orders["comparison_id"].tolist() == [2]
    assert either["comparison_id"].tolist() == [1, 2]
    assert v.loc[2, "confidence"] == pytest.approx(0.0) and v.loc[3, "confidence"] == pytest.approx(0.6)
