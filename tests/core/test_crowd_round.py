"""Crowd rounds in core: assignment, filter, keys, packs, events, merge, status, quality, selection, CLI."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from tests.support.crowd_data import label_all, right_always, seeded_random, small_round, twin_of
from tiebreak.core.cli import main as cli_main
from tiebreak.core.crowd.events import live_labels, read_events, write_events
from tiebreak.core.crowd.merge import merge_files
from tiebreak.core.crowd.pack import open_pack_session
from tiebreak.core.crowd.quality import round_quality
from tiebreak.core.crowd.round import (
    RoundError,
    balanced_assignment,
    create_round,
    item_key,
    parse_filter,
)
from tiebreak.core.crowd.selection import keep_per_item
from tiebreak.core.crowd.status import reissue, round_status
from tiebreak.core.identity import pooled_statistics_shown, show_pooled_statistics
from tiebreak.core.store import Store


@pytest.mark.parametrize(("n_items", "n_workers", "k"), [(100, 6, 4), (7, 3, 3), (13, 5, 2), (1, 4, 1), (50, 10, 7)])
def test_balanced_assignment(n_items, n_workers, k):
    workers = [f"w{i}" for i in range(n_workers)]
    plan = balanced_assignment(n_items, workers, k, seed=3)
    assert all(len(set(p)) == k for p in plan)  # K distinct annotators, nobody twice
    loads = pd.Series([w for p in plan for w in p]).value_counts().reindex(workers, fill_value=0)
    assert loads.max() - loads.min() <= 1 and loads.sum() == n_items * k


def test_assignment_rejects_bad_overlap_and_duplicates():
    with pytest.raises(RoundError, match="between 1 and the number of annotators"):
        balanced_assignment(3, ["a", "b"], 3)
    with pytest.raises(RoundError, match="twice"):
        balanced_assignment(3, ["a", "a", "b"], 1)


def test_parse_filter():
    f = parse_filter("reference=r, generator=a|b,dataset=d,limit=5")
    assert (f.reference, f.generators, f.dataset, f.limit) == ("r", ("a", "b"), "d", 5)
    assert parse_filter(f.text()) == f
    for bad, msg in (("colour=red", "unknown key"), ("limit=0", "positive"), ("reference", "key=value")):
        with pytest.raises(RoundError, match=msg):
            parse_filter(bad)


def test_item_key_depends_on_order_and_boundaries():
    assert item_key("q", "a", "b") != item_key("q", "b", "a")
    assert item_key("q", "ab", "c") != item_key("q", "a", "bc")
    assert item_key("q", "a", "b") == item_key("q", "a", "b")


def test_create_writes_balanced_packs_and_bad_gold_changes_nothing(tmp_path):
    store, made = small_round(tmp_path, ["ann", "ben", "cho"], 2, repeats=2, identical=1)
    assert made.n_items == 24 and sorted(made.loads.values()) == [16, 16, 16]
    conn = sqlite3.connect(made.packs["ann"])
    kinds = dict(conn.execute("SELECT key, value FROM crowd_pack").fetchall())
    assert kinds["annotator"] == "ann" and kinds["round"] == "r"
    assert conn.execute("SELECT count(*) FROM crowd_pack_items").fetchone()[0] == 16 + 2 + 1
    assert conn.execute("SELECT count(*) FROM annotations").fetchone()[0] == 0
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"instruction": "q", "output_1": "a", "output_2": "b", "preference": 1}\n{"instruction": "q2"}\n')
    with pytest.raises(RoundError, match="record 2 lacks output_1, output_2, preference"):
        create_round(store, "r2", ["ann"], 1, tmp_path / "p2", gold_file=gold)
    with pytest.raises(RoundError, match="already exists"):
        create_round(store, "r", ["ann"], 1, tmp_path / "p3")
    with pytest.raises(RoundError, match="no comparison"):
        create_round(store, "r4", ["ann"], 1, tmp_path / "p4", items="dataset=nothing")
    assert not (tmp_path / "p2").exists() or not list((tmp_path / "p2").iterdir())
    assert [r[0] for r in store.conn.execute("SELECT name FROM crowd_rounds")] == ["r"]


def test_a_written_pack_has_every_index_of_its_schema_and_passes_the_integrity_check(tmp_path):
    """Packs build their secondary indexes after the bulk copy: the same indexes as the coordinator's."""
    store, made = small_round(tmp_path, ["ann", "ben"], 2, repeats=1, identical=1)

    def indexes(conn) -> list[tuple]:
        return sorted(conn.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'").fetchall(),
                      key=str)  # fmt: skip

    for path in made.packs.values():
        conn = sqlite3.connect(path)
        try:
            assert indexes(conn) == indexes(store.conn)
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]  # index entries = rows
            plan = conn.execute("EXPLAIN QUERY PLAN SELECT id FROM outputs WHERE text_id = 1").fetchall()
            assert "outputs_text" in str(plan)
        finally:
            conn.close()
    store.close()


def test_live_labels_latest_live_label_wins():
    ev = [
        {"annotator": 1, "item_key": "k", "kind": "label", "uuid": "a", "refers_to": None, "at": "1", "seq": 1},
        {"annotator": 1, "item_key": "k", "kind": "label", "uuid": "b", "refers_to": None, "at": "2", "seq": 2},
        {"annotator": 1, "item_key": "k", "kind": "retraction", "uuid": "c", "refers_to": "b", "at": "3", "seq": 3},
    ]
    assert live_labels(ev)[(1, "k")]["uuid"] == "a"  # b retracted: the older live label stands
    ev.append({"annotator": 1, "item_key": "k", "kind": "redo", "uuid": "d", "refers_to": "b", "at": "4", "seq": 4})
    assert live_labels(ev)[(1, "k")]["uuid"] == "b"
    ev.append({"annotator": 1, "item_key": "k", "kind": "retraction", "uuid": "e", "refers_to": "a", "at": "5", "seq": 5})
    ev.append({"annotator": 1, "item_key": "k", "kind": "retraction", "uuid": "f", "refers_to": "b", "at": "6", "seq": 6})
    assert (1, "k") not in live_labels(ev)


def test_merge_is_idempotent_across_packs_and_event_files(tmp_path):
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    label_all(made.packs["ann"], right_always)
    events = tmp_path / "ann.jsonl"
    n = write_events(made.packs["ann"], events)
    assert n == len(read_events(made.packs["ann"]).events) and n == 12 + 2  # labels + session start / end
    first = merge_files(store, [events])
    assert first.files[0].n_new == n and first.files[0].n_changed == 12
    again = merge_files(store, [made.packs["ann"], events])
    assert [f.n_new for f in again.files] == [0, 0]
    assert store.conn.execute("SELECT count(*) FROM annotations WHERE source = 'label'").fetchone()[0] == 12
    extra = store.conn.execute("SELECT extra FROM annotations WHERE source = 'label' LIMIT 1").fetchone()[0]
    uuids = {e["uuid"] for e in read_events(events).events}
    assert json.loads(extra)["round"] == "r" and json.loads(extra)["crowd_event"] in uuids
    assert extra == json.dumps(json.loads(extra), sort_keys=True)


def test_a_revised_label_never_aborts_a_merge_and_bad_files_are_reported(tmp_path):
    """Regression: one revised label aborted the whole (JSONL) merge; now it is a later event."""
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    label_all(made.packs["ann"], right_always)
    label_all(made.packs["ben"], right_always)
    merge_files(store, [made.packs["ann"]])
    pstore, session, _ = open_pack_session(made.packs["ann"])
    cid = pstore.conn.execute("SELECT comparison_id FROM annotations ORDER BY id DESC LIMIT 1").fetchone()[0]
    ann_id = pstore.conn.execute("SELECT id FROM annotations ORDER BY id DESC LIMIT 1").fetchone()[0]
    with pstore.transaction() as tx:  # the app's undo: retract, then a new answer on the same item
        tx.retract_annotation(ann_id)
        tx.add_annotation(comparison_id=cid, annotator_id=1, preference=1.0, raw_choice="left", swapped=0)
    session.close()
    pstore.close()
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"pack": {"round": "nope", "annotator": "x", "pack_uuid": "u"}}) + "\n")
    report = merge_files(store, [other, made.packs["ann"], tmp_path / "missing.tiebreak", made.packs["ben"]])
    assert [f.ok for f in report.files] == [False, True, False, True]
    assert "round 'nope' is not in this database" in report.files[0].message
    assert report.files[1].n_changed == 2
    rows = store.conn.execute(
        "SELECT raw_choice, retracted_at IS NULL FROM annotations a JOIN annotators n ON n.id = a.annotator_id"
        " WHERE n.name = 'ann' AND a.comparison_id = (SELECT comparison_id FROM annotations a2"
        " JOIN annotators n2 ON n2.id = a2.annotator_id WHERE n2.name = 'ann' AND a2.retracted_at IS NOT NULL)"
        " ORDER BY a.id").fetchall()  # fmt: skip
    assert rows == [("right", 0), ("left", 1)]  # the history stays; the later label is live
    logged = store.conn.execute("SELECT status, count(*) FROM crowd_merges GROUP BY 1 ORDER BY 1").fetchall()
    assert logged == [("error", 2), ("ok", 3)]


def test_status_counts_unlabelled_items_below_k_and_reissue_tops_up(tmp_path):
    store, made = small_round(tmp_path, ["ann", "ben", "cho"], 2, repeats=0, identical=0)
    label_all(made.packs["ann"], right_always)
    merge_files(store, [made.packs["ann"]])
    st = round_status(store, "r")
    assert len(st.below) == 24 and sum(b["n_labels"] == 0 for b in st.below) == 8
    path, n = reissue(store, "r", "dee", tmp_path / "packs")
    assert n == 24 and path.name == "r-dee.tiebreak"
    with pytest.raises(RoundError, match="nothing to reissue to 'dee'"):  # dee already has every item
        reissue(store, "r", "dee", tmp_path / "packs", from_="ben")
    path, n = reissue(store, "r", "eve", tmp_path / "packs", from_="ben")
    assert n == 16 and round_status(store, "r").annotators[-1]["annotator"] == "eve"


def test_not_enough_overlap_instead_of_perfect_scores(tmp_path):
    """Regression: a worker without shared items showed 100% agreement / Dawid-Skene accuracy."""
    store, made = small_round(tmp_path, ["ann", "ben", "cho"], 1, repeats=0, identical=0)
    for w in ("ann", "ben", "cho"):
        label_all(made.packs[w], right_always)
    merge_files(store, list(made.packs.values()))
    q = round_quality(store, "r").set_index("annotator")
    assert (q["status"] == "not enough overlap").all()
    assert q["agreement"].isna().all() and q["ds_accuracy"].isna().all()
    assert (q["n_shared"] == 0).all()


def test_random_clicker_is_flagged(tmp_path):
    """Regression: a random clicker ranked last but carried no flag."""
    store, made = small_round(tmp_path, ["ann", "ben", "cho", "rex"], 4, repeats=0, identical=0)
    truth = {}

    def careful(shown):
        key = (shown.pair.instruction, shown.pair.output_1)
        want = truth.setdefault(key, 2.0 if "Answer" in shown.pair.output_2 else 1.0)
        return "left" if (want == 1.0) != shown.swapped else "right"

    for w in ("ann", "ben", "cho"):
        label_all(made.packs[w], careful)
    label_all(made.packs["rex"], seeded_random(5))
    merge_files(store, list(made.packs.values()))
    q = round_quality(store, "r").set_index("annotator")
    assert q.loc["rex", "status"] == "FLAGGED" and "agreement with the others" in q.loc["rex", "reasons"]
    assert (q.loc[["ann", "ben", "cho"], "status"] == "ok").all()
    assert math.isclose(q.loc["ann", "agreement"], 1.0)


def test_keep_per_item_is_deterministic_and_counts_drops():
    rows = [dict(annotation_id=i, comparison_id=i // 5, annotator="humans", annotator_name=f"w{i % 5}",
                 instruction=f"q{i // 5}", output_1="a", output_2="b", preference=1.0) for i in range(20)]  # fmt: skip
    rows.append(dict(annotation_id=99, comparison_id=0, annotator="judge", annotator_name="j", instruction="q0",
                     output_1="a", output_2="b", preference=2.0))  # fmt: skip
    frame = pd.DataFrame(rows)
    kept, dropped = keep_per_item(frame, "humans", 3)
    shuffled, dropped2 = keep_per_item(frame.sample(frac=1.0, random_state=1), "humans", 3)
    assert dropped == dropped2 == 8
    assert sorted(kept["annotation_id"]) == sorted(shuffled["annotation_id"])
    assert 99 in set(kept["annotation_id"]) and (kept[kept.annotator == "humans"].groupby("comparison_id").size() == 3).all()


def test_pooled_statistics_setting_is_off_by_default(store):
    assert pooled_statistics_shown(store) is False
    show_pooled_statistics(store, True)
    assert pooled_statistics_shown(store) is True
    show_pooled_statistics(store, False)
    assert pooled_statistics_shown(store) is False


def test_round_cli(tmp_path, capsys):
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    store.close()
    db = str(tmp_path / "coord.sqlite")
    assert cli_main(["round", "create", "r2", "--db", db, "--annotators", "x,y", "--overlap", "2",
                     "--out", str(tmp_path / "p2"), "--items", "limit=4"]) == 0  # fmt: skip
    assert "x: 4 items" in capsys.readouterr().out
    label_all(tmp_path / "p2" / "r2-x.tiebreak", right_always)
    assert cli_main(["round", "merge", "--db", db, str(tmp_path / "p2" / "r2-x.tiebreak"), str(tmp_path / "nope")]) == 1
    out = capsys.readouterr()
    assert "4 label(s) changed" in out.out and "NOT MERGED" in out.err
    assert cli_main(["round", "status", "r2", "--db", db, "--format", "json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert [(a["annotator"], a["done"] == a["assigned"]) for a in st["annotators"]] == [("x", True), ("y", False)]
    assert st["n_below"] == 4 and {q["annotator"] for q in st["quality"]} == {"x", "y"}
    assert cli_main(["round", "status", "zz", "--db", db]) == 2
    assert "unknown round 'zz'" in capsys.readouterr().err
    assert cli_main(["coordinator", "--db", db]) == 0
    assert "pooled statistics for labellers: off" in capsys.readouterr().out
    assert cli_main(["export", "--db", db, "--format", "jsonl", "-o", str(tmp_path / "e.jsonl"), "--exclude", "nobody"]) == 2
    assert "unknown annotator(s) nobody" in capsys.readouterr().err


def test_a_pack_built_in_bulk_is_an_ordinary_consistent_database(tmp_path):
    """Built without journal, fsync or FK checks and with the length trigger off: the finished pack
    has a DELETE journal, no .part left, sound foreign keys, the trigger back and exact length sums."""
    _, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=1, identical=1)
    path = made.packs["ann"]
    assert not list(path.parent.glob("*.part"))
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'generator_length_sums_insert'"
    ).fetchone()[0] == 1
    recount = conn.execute(
        "SELECT o.generator, count(*), sum(t.length) FROM outputs o JOIN texts t ON t.id = o.text_id"
        " GROUP BY o.generator ORDER BY 1"
    ).fetchall()
    kept = conn.execute("SELECT generator, n_outputs, total_chars FROM generator_length_sums ORDER BY 1").fetchall()
    assert kept == recount and len(kept) > 1
    conn.close()


@pytest.mark.parametrize("bulk_min", [1, 10**9])
def test_merged_labels_keep_the_winrate_sums_exact(tmp_path, monkeypatch, bulk_min):
    """Per-row trigger or once-per-key bulk sums: winrate_sums equal a recount, the trigger survives,
    and a revised label merged later (retraction + new row) keeps them exact too."""
    from tests.core.test_store_aggregates import assert_aggregate_exact
    from tiebreak.core.crowd import winners as winners_mod

    monkeypatch.setattr(winners_mod, "BULK_SUMS_MIN", bulk_min)
    store, made = small_round(tmp_path, ["ann", "ben", "cho"], 2, repeats=0, identical=0)
    for n, pack in enumerate(made.packs.values()):
        label_all(pack, seeded_random(n))
    before = store.conn.execute("SELECT count(*) FROM winrate_sums").fetchone()[0]
    report = merge_files(store, list(made.packs.values()))
    assert report.n_failed == 0 and store.conn.execute("SELECT count(*) FROM winrate_sums").fetchone()[0] > before
    assert_aggregate_exact(store)
    trig = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'winrate_sums_insert'"
    assert store.conn.execute(trig).fetchone()[0] == 1
    pstore, session, _ = open_pack_session(made.packs["ann"])
    cid, ann_id, aid = pstore.conn.execute(
        "SELECT comparison_id, id, annotator_id FROM annotations ORDER BY id DESC LIMIT 1"
    ).fetchone()  # fmt: skip
    with pstore.transaction() as tx:  # the app's undo: retract, then a new answer on the same item
        tx.retract_annotation(ann_id)
        tx.add_annotation(comparison_id=cid, annotator_id=aid, preference=1.0, raw_choice="left", swapped=0)
    session.close()
    pstore.close()
    assert merge_files(store, [made.packs["ann"]]).files[0].n_changed == 2
    assert_aggregate_exact(store)
    store.close()


def test_bulk_merge_leaves_the_lc_panel_versions_the_per_row_triggers_leave(tmp_path, monkeypatch):
    """The bulk path drops the per-row insert triggers: each panel's version still rises by its new
    rows (as the trigger would have left it), and both triggers are back after the merge."""
    from tiebreak.core.crowd import winners as winners_mod

    store, made = small_round(tmp_path, ["ann", "ben", "cho"], 2, repeats=0, identical=0)
    for n, pack in enumerate(made.packs.values()):
        label_all(pack, seeded_random(n))
    twin_path = twin_of(store, tmp_path / "twin.sqlite")
    versions = "SELECT annotator, reference, version FROM lc_panel_versions ORDER BY 1, 2"
    before = store.conn.execute(versions).fetchall()
    results = []
    for target, bulk_min in ((store, 1), (Store(twin_path), 10**9)):
        monkeypatch.setattr(winners_mod, "BULK_SUMS_MIN", bulk_min)
        assert merge_files(target, list(made.packs.values())).n_failed == 0
        results.append(target.conn.execute(versions).fetchall())
        names = {r[0] for r in target.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"winrate_sums_insert", "lc_version_annotation_insert"} <= names
        if target is not store:
            target.close()
    assert results[0] == results[1] and results[0] != before
    n_new = store.conn.execute("SELECT count(*) FROM annotations WHERE source = 'label'").fetchone()[0]
    assert sum(v for *_, v in results[0]) - sum(v for *_, v in before) == n_new > 0
    store.close()


def _pack_pairs_match(coord: Store, pack: Path, round_name: str) -> int:
    """Assert every ordinary and gold item of a pack shows the coordinator's texts; returns the count."""
    conn = sqlite3.connect(pack)
    rows = conn.execute(
        "SELECT p.item_key, ti.body, t1.body, t2.body FROM crowd_pack_items p JOIN comparisons c ON c.id = p.comparison_id"
        " JOIN instructions i ON i.id = c.instruction_id JOIN texts ti ON ti.id = i.text_id"
        " JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id"
        " JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id"
    ).fetchall()  # fmt: skip
    generators = {r[0] for r in conn.execute("SELECT DISTINCT generator FROM outputs")}
    conn.close()
    kinds = dict(coord.conn.execute(
        "SELECT item_key, kind FROM crowd_items WHERE round_id = (SELECT id FROM crowd_rounds WHERE name = ?)", (round_name,)
    ).fetchall())  # fmt: skip
    for key, ins, o1, o2 in rows:  # every pair (checks included) is keyed by the texts it shows
        assert item_key(ins, o1, o2) == key
    assert all(g.startswith("model ") for g in generators)  # no model names travel
    return sum(kinds[k] in ("item", "gold") for k, *_ in rows)


@pytest.mark.parametrize("on_disk", [True, False])
def test_packs_copy_committed_pairs_by_sql_and_new_gold_pairs_from_python(tmp_path, on_disk):
    """Ordinary items come from the attached coordinator file; gold pairs added by the same transaction
    (not yet visible to another connection) and in-memory databases go through the connection itself."""
    from tests.support.crowd_data import coordinator
    from tiebreak.core.store import Store as _Store

    store = coordinator(tmp_path / "coord.sqlite") if on_disk else _Store(memory=True)
    if not on_disk:
        from tests.gui._data import fill_store

        fill_store(store, 12)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"instruction": f"gold question {n}", "output_1": f"good {n}", "output_2": f"bad {n}",
                                        "preference": 1}) + "\n" for n in range(3)))  # fmt: skip
    made = create_round(store, "g", ["ann", "ben"], 1, tmp_path / "packs", gold_file=gold, repeats=2, identical=1)
    for worker, pack in made.packs.items():
        load = made.loads[worker]
        assert _pack_pairs_match(store, pack, "g") == load + 3  # its items and the three gold pairs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_merge_keeps_the_winners_live_labels_names(tmp_path, seed):
    """The merge computes winners in SQL: on random histories (revisions, retractions, redos, equal
    times, several files) crowd_labels and the live annotations equal ``live_labels`` of all events."""
    import random as _random

    from tiebreak.core.crowd.gold import preference_of

    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    keys = [r[0] for r in store.conn.execute("SELECT item_key FROM crowd_items WHERE kind = 'item' ORDER BY id")]
    head = json.loads(json.dumps({"pack": {"round": "r", "annotator": "ann", "pack_uuid": f"pk{seed}"}}))
    rng, events, labels, seq = _random.Random(seed), [], [], 0
    for part in range(3):
        batch = []
        for _ in range(60):
            seq += 1
            at = f"2026-01-01T00:00:{rng.randint(0, 20):02d}"  # many equal times: seq, then uuid decide
            if labels and rng.random() < 0.35:
                ev = {"kind": rng.choice(["retraction", "redo"]), "refers_to": rng.choice(labels), "item_key": None}
            else:
                ev = {"kind": "label", "item_key": rng.choice(keys[:8]), "choice": rng.choice(["left", "right", "tie_good"]),
                      "swapped": rng.randint(0, 1), "refers_to": None}  # fmt: skip
            ev.update(uuid=f"e{seed}-{seq}-\u00e9" if seq % 17 == 0 else f"{rng.getrandbits(64):016x}", seq=seq, at=at)
            if ev["kind"] == "label":
                labels.append(ev["uuid"])
            batch.append(ev)
        events += batch
        path = tmp_path / f"part{part}.jsonl"
        path.write_text("\n".join(json.dumps(e) for e in [head, *events]) + "\n")  # each file repeats the earlier ones
        assert merge_files(store, [path]).n_failed == 0
        aid = store.conn.execute("SELECT id FROM annotators WHERE name = 'ann'").fetchone()[0]
        expected = live_labels([{**e, "annotator": aid} for e in events])
        got = dict(store.conn.execute("SELECT item_key, uuid FROM crowd_labels WHERE annotator_id = ?", (aid,)).fetchall())
        assert got == {k: ev["uuid"] for (_, k), ev in expected.items()}
        live = store.conn.execute(
            "SELECT extra, preference FROM annotations WHERE annotator_id = ? AND retracted_at IS NULL", (aid,)
        ).fetchall()  # fmt: skip
        by_uuid = {ev["uuid"]: ev for ev in expected.values()}
        assert sorted(json.loads(x)["crowd_event"] for x, _ in live) == sorted(by_uuid)
        for extra, pref in live:
            assert extra == json.dumps(json.loads(extra), sort_keys=True)
            ev = by_uuid[json.loads(extra)["crowd_event"]]
            assert pref == preference_of(ev["choice"], ev["swapped"])


def test_packs_of_comparisons_added_in_the_same_transaction(tmp_path, monkeypatch):
    """Packs are built on their own connections from the committed file; comparisons the running
    (outer) transaction added are not there yet, so those packs are rebuilt through the coordinator's
    connection: complete packs, nothing left half-written."""
    from tests.gui._data import fill_store
    from tiebreak.core.crowd import packfile
    from tiebreak.core.store import Store as _Store

    monkeypatch.setattr(packfile.os, "cpu_count", lambda: 2)  # threads even on a one-core runner
    calls: list[bool] = []
    write = packfile._write_file
    monkeypatch.setattr(packfile, "_write_file", lambda job, path, source: calls.append(source is None) or write(job, path, source))
    store = _Store(tmp_path / "coord.sqlite", create=True)
    with store.transaction():
        fill_store(store, 6)  # uncommitted while the packs are written
        made = create_round(store, "t", ["ann", "ben", "cho"], 2, tmp_path / "packs")
    for worker, pack in made.packs.items():
        assert _pack_pairs_match(store, pack, "t") == made.loads[worker]
    assert not list((tmp_path / "packs").glob("*.part"))
    threaded = calls.count(True)
    assert threaded >= 2 and calls.count(False) == threaded  # built in threads, each rebuilt on the connection


def test_a_file_listed_twice_in_one_merge_counts_once(tmp_path):
    """The next file is read while the current one merges; whether it is new is still decided at its turn."""
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    label_all(made.packs["ann"], right_always)
    events = tmp_path / "ann.jsonl"
    n = write_events(made.packs["ann"], events)
    report = merge_files(store, [made.packs["ann"], made.packs["ann"], events, made.packs["ben"]])
    assert [(f.ok, f.n_new) for f in report.files] == [(True, n), (True, 0), (True, 0), (True, 0)]  # ben: no work yet
    assert report.files[0].n_changed == 12 and report.files[2].n_changed == 0
    assert store.conn.execute("SELECT count(*) FROM crowd_events").fetchone()[0] == n
    assert store.conn.execute("SELECT count(*) FROM annotations WHERE source = 'label'").fetchone()[0] == 12


def test_a_pack_that_cannot_be_written_leaves_no_round_and_no_pack(tmp_path):
    """Packs are written while the round's transaction is open (several at once): one failure rolls
    the round back and takes every finished pack away."""
    from tests.support.crowd_data import coordinator

    store = coordinator(tmp_path / "coord.sqlite")
    out = tmp_path / "packs"
    (out / "r-cho.tiebreak.part").mkdir(parents=True)  # cho's pack cannot be built there
    with pytest.raises(OSError):
        create_round(store, "r", ["ann", "ben", "cho", "dee"], 2, out)
    assert sorted(p.name for p in out.iterdir()) == ["r-cho.tiebreak.part"]
    assert store.conn.execute("SELECT count(*) FROM crowd_rounds").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM crowd_assignments").fetchone()[0] == 0


def test_pack_template_from_the_coordinators_schema_equals_a_migrated_one(tmp_path, monkeypatch):
    """Packs start from an empty database made from the coordinator's schema (no sqlite-utils import):
    the same schema, migration records, stamps and seeded rows as migrating a new file would give."""
    from tests.support.crowd_data import coordinator
    from tiebreak.core.crowd import packfile

    store = coordinator(tmp_path / "coord.sqlite")
    copied, migrated = tmp_path / "copied.tiebreak", tmp_path / "migrated.tiebreak"
    packfile._copy_schema(store, copied)
    monkeypatch.setattr(packfile, "_TEMPLATE", [])
    migrated.write_bytes(packfile._template().read_bytes())  # by migrations (no source)

    def shape(path: Path) -> tuple[object, ...]:
        conn = sqlite3.connect(path)
        schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=str)
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables if t != "database_info"}
        rows["_sqlite_migrations"] = sorted(r[:2] for r in rows["_sqlite_migrations"])  # (set, name); not when applied
        keys = [r[0] for r in conn.execute("SELECT key FROM database_info ORDER BY key")]
        stamps = [conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version")]
        conn.close()
        return schema, rows, keys, stamps

    assert shape(copied) == shape(migrated)
    opened = Store(copied)  # a Tiebreak database at head: nothing to migrate
    assert opened.conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] >= 8
    opened.close()


def test_identical_checks_sharing_a_key_are_kept_once(tmp_path):
    """Identical-output checks of one instruction show the same texts (one content key): a pack keeps the first."""
    store, made = small_round(tmp_path, ["ann"], 1, repeats=0, identical=10)  # 24 items of 12 instructions
    for worker, pack in made.packs.items():
        conn = sqlite3.connect(pack)
        keys = [r[0] for r in conn.execute("SELECT item_key FROM crowd_pack_items ORDER BY position")]
        conn.close()
        n_identical = store.conn.execute(
            "SELECT count(*) FROM crowd_assignments a JOIN crowd_items i ON i.id = a.item_id JOIN annotators n"
            " ON n.id = a.annotator_id WHERE n.name = ? AND i.kind = 'identical'", (worker,),
        ).fetchone()[0]  # fmt: skip
        assert len(keys) == len(set(keys)) == made.loads[worker] + n_identical
        assert 0 < n_identical < 10  # 10 checks drawn from 24 items of 12 instructions: some share one


def test_a_file_failing_half_way_is_rolled_back_alone(tmp_path):
    """The merge is one transaction with a savepoint per file: rows a failing file already wrote
    are taken back, the files before and after it stay merged, and the failure is logged."""
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    label_all(made.packs["ann"], right_always)
    label_all(made.packs["ben"], right_always)
    good = tmp_path / "ann.jsonl"
    write_events(made.packs["ann"], good)
    lines = good.read_text().splitlines()
    bad_event = {**json.loads(lines[-1]), "uuid": "zzzz-last", "seconds": {"not": "a number"}}  # bound last: fails there
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], *lines[1:], json.dumps(bad_event)]) + "\n")
    report = merge_files(store, [made.packs["ben"], bad, good])
    assert [f.ok for f in report.files] == [True, False, True] and "bad.jsonl" in report.files[1].message
    pack = json.loads(lines[0])["pack"]["pack_uuid"]
    assert store.conn.execute("SELECT count(*) FROM crowd_events WHERE uuid = 'zzzz-last'").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM crowd_events WHERE pack_uuid = ?", (pack,)).fetchone()[0] == len(lines) - 1
    assert report.files[2].n_new == len(lines) - 1  # the good copy merged everything the bad one had taken back
    logged = store.conn.execute("SELECT status FROM crowd_merges ORDER BY id").fetchall()
    assert [r[0] for r in logged] == ["ok", "error", "ok"]
