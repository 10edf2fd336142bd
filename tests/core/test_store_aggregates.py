"""Trigger-kept aggregates (migration 0006): win-rate sums and output lengths equal a recount."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiebreak.core.metrics import sql as q
from tiebreak.core.metrics.winrate import from_sums, leaderboard
from tiebreak.core.store import Store, Transaction

INT_COLUMNS = ("n_total", "n_dropped", "n_wins", "n_wins_base", "n_draws")
SCALE = 2.0**-32

_LIVE_SQL = """
    SELECT o2.generator, o1.generator, an.group_name, a.preference
    FROM annotations a JOIN comparisons c ON c.id = a.comparison_id
    JOIN outputs o1 ON o1.id = c.output_1_id JOIN outputs o2 ON o2.id = c.output_2_id
    JOIN annotators an ON an.id = a.annotator_id
    WHERE a.retracted_at IS NULL
"""


def recount(store: Store) -> dict[tuple, dict]:
    """The aggregate recomputed in Python from every live row, with exactly rounded sums."""
    prefs: dict[tuple, list] = defaultdict(list)
    for g2, g1, group, p in store.conn.execute(_LIVE_SQL):
        prefs[(g2, g1, group)].append(p)
    out = {}
    for key, ps in prefs.items():
        xs = [p - 1 for p in ps if p is not None and 1 <= p <= 2]
        out[key] = {
            "n_total": len(xs), "n_dropped": len(ps) - len(xs),
            "n_wins": sum(x > 0.5 for x in xs), "n_wins_base": sum(x < 0.5 for x in xs),
            "n_draws": sum(x == 0.5 for x in xs),
            "sum_x": math.fsum(xs), "sum_x2": math.fsum(x * x for x in xs),
        }  # fmt: skip
    return out


def stored(store: Store) -> dict[tuple, dict]:
    """The winrate_sums table as it stands, sums reassembled from fixed and remainder parts."""
    cur = store.conn.execute("SELECT * FROM winrate_sums")
    cols = [d[0] for d in cur.description]
    out = {}
    for values in cur:
        row = dict(zip(cols, values, strict=True))
        assert isinstance(row["sum_x_fixed"], int) and isinstance(row["sum_x2_fixed"], int)
        key = (row["generator_2"], row["generator_1"], row["annotator"])
        out[key] = {c: row[c] for c in INT_COLUMNS} | {
            "sum_x": row["sum_x_fixed"] * SCALE + row["sum_x_rest"],
            "sum_x2": row["sum_x2_fixed"] * SCALE + row["sum_x2_rest"],
        }
    return out


def assert_aggregate_exact(store: Store, tol: float = 1e-12) -> None:
    """Same keys, identical counts, sums within ``tol`` of the exactly rounded recount."""
    want, got = recount(store), stored(store)
    assert got.keys() == want.keys()
    for key, w in want.items():
        g = got[key]
        assert {c: g[c] for c in INT_COLUMNS} == {c: w[c] for c in INT_COLUMNS}, key
        assert abs(g["sum_x"] - w["sum_x"]) <= tol, (key, g["sum_x"], w["sum_x"])
        assert abs(g["sum_x2"] - w["sum_x2"]) <= tol, (key, g["sum_x2"], w["sum_x2"])


def lengths_exact(store: Store) -> None:
    """avg_lengths from the trigger-kept table equals the scan of outputs and texts."""
    scan = q.generator_lengths(store)
    assert q.avg_lengths(store) == scan["avg_length"].to_dict()
    kept = dict(store.conn.execute("SELECT generator, total_chars FROM generator_length_sums"))
    assert kept == scan["total_chars"].to_dict()


def world(store: Store) -> tuple[list[int], list[int]]:
    """Comparisons of three candidates against two references; judges and a human group."""
    cids = []
    with store.transaction() as tx:
        for i in range(3):
            iid = tx.instruction_id(f"instruction {i}")
            for ref in ("ref_a", "ref_b"):
                o1 = tx.output_id(iid, ref, f"{ref} answer {i}" + "!" * i)
                for cand in ("m1", "m2", "m3"):
                    o2 = tx.output_id(iid, cand, f"{cand} says {i}" * (i + 1))
                    cids.append(tx.comparison_id(iid, o1, o2))
        annotators = [
            tx.annotator_id("j1", "judge"),
            tx.annotator_id("j2", "judge"),
            tx.annotator_id("crowd/1", "human", group="crowd", member="1"),
            tx.annotator_id("crowd/2", "human", group="crowd", member="2"),
        ]
    return cids, annotators


preferences = st.one_of(
    st.none(),
    st.sampled_from([1.0, 1.5, 2.0]),
    st.floats(min_value=1.0, max_value=2.0, allow_nan=False),
)
operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "add", "add", "retract", "restore", "update", "delete", "move",
                         "reassign", "touch"]),
        st.integers(0, 10_000), st.integers(0, 10_000), preferences,
    ),  # fmt: skip
    max_size=40,
)


def apply(store: Store, op: str, i: int, j: int, p: float | None, cids: list, anns: list) -> None:
    """One random change to the annotations table (through the Store where it has a method)."""
    ids = [r[0] for r in store.conn.execute("SELECT id FROM annotations ORDER BY id")]
    with store.transaction() as tx:
        if op == "add" or not ids:
            tx.add_annotation(comparison_id=cids[i % len(cids)], annotator_id=anns[j % len(anns)],
                              preference=p, source="label")  # fmt: skip
        else:
            _change(tx, op, ids[i % len(ids)], j, p, cids, anns)


def _change(tx: Transaction, op: str, aid: int, j: int, p: float | None, cids: list, anns: list) -> None:
    sql = {
        "update": ("UPDATE annotations SET preference = ? WHERE id = ?", (p, aid)),
        "delete": ("DELETE FROM annotations WHERE id = ?", (aid,)),
        "move": ("UPDATE annotations SET comparison_id = ? WHERE id = ?", (cids[j % len(cids)], aid)),
        "reassign": ("UPDATE annotations SET annotator_id = ? WHERE id = ?", (anns[j % len(anns)], aid)),
        "touch": ("UPDATE annotations SET retracted_at = 'later' WHERE id = ? AND retracted_at IS NOT NULL", (aid,)),
    }  # fmt: skip
    if op == "retract":
        tx.retract_annotation(aid)
    elif op == "restore":
        tx.restore_annotation(aid)
    else:
        tx.execute(*sql[op])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_triggers_keep_sums_equal_to_a_recount_under_random_streams(ops):
    store = Store(memory=True)
    try:
        cids, anns = world(store)
        for op, i, j, p in ops:
            apply(store, op, i, j, p, cids, anns)
            assert_aggregate_exact(store)
        if store.counts()["annotations"]:
            fast = from_sums(q.winrate_sums(store), q.avg_lengths(store))
            slow = leaderboard(q.metric_frame(store))
            # the leaderboard's integer read gives the same frame (retractions, nulls, moves)
            pd.testing.assert_frame_equal(q.lean_frame(store), q.metric_frame(store))
            assert fast.index.equals(slow.index)
            for col in ("n_total", "n_dropped", "n_wins", "n_wins_base", "n_draws", "note"):
                assert fast[col].tolist() == slow[col].tolist(), col
            for col in ("win_rate", "standard_error", "discrete_win_rate"):
                assert fast[col].to_numpy() == pytest.approx(
                    slow[col].to_numpy(), abs=1e-12, nan_ok=True
                ), col
    finally:
        store.close()


def test_long_histories_do_not_drift():
    """20,000 adds and retractions of soft labels on one key: sums stay at the exact value."""
    store = Store(memory=True)
    cids, anns = world(store)
    rng = random.Random(7)
    live: list[int] = []
    with store.transaction() as tx:
        for _ in range(20_000):
            if live and rng.random() < 0.45:
                tx.retract_annotation(live.pop(rng.randrange(len(live))))
            else:
                live.append(tx.add_annotation(comparison_id=cids[0], annotator_id=anns[0],
                                                 preference=1 + rng.random(), source="judge"))  # fmt: skip
    assert len(live) > 1000
    assert_aggregate_exact(store, tol=1e-13)
    store.close()


def _unapply_0006(path) -> None:
    """Turn a file database back into its pre-0006 state (tables, triggers, migration record)."""
    s = Store(path, create=True)
    names = [r[0] for r in s.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE 'winrate_sums%'"
        " OR name LIKE 'generator_length_sums%')")]  # fmt: skip
    with s.transaction() as tx:
        for name in names:
            tx.execute(f"DROP TRIGGER {name}")
        tx.execute("DROP TABLE winrate_sums")
        tx.execute("DROP TABLE generator_length_sums")
        tx.execute("DELETE FROM _sqlite_migrations WHERE name = '0006_winrate_sums'")
    s.close()


def test_migration_backfills_existing_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    s = Store(path, create=True)
    cids, anns = world(s)
    rng = random.Random(3)
    with s.transaction() as tx:
        ids = [
            tx.add_annotation(comparison_id=rng.choice(cids), annotator_id=rng.choice(anns),
                              preference=rng.choice([None, 1.0, 1.5, 2.0, 1 + rng.random()]))
            for _ in range(300)
        ]  # fmt: skip
        for aid in ids[::7]:
            tx.retract_annotation(aid)
    s.close()
    _unapply_0006(path)
    s = Store(path)  # re-applies 0006: backfill from the rows above
    try:
        assert_aggregate_exact(s)
        lengths_exact(s)
        assert s.conn.execute("SELECT count(*) FROM winrate_sums").fetchone()[0] > 10
    finally:
        s.close()


def test_renames_and_rewired_comparisons_rebuild_the_affected_keys(store):
    cids, anns = world(store)
    with store.transaction() as tx:
        for k, cid in enumerate(cids):
            for a in anns:
                tx.add_annotation(comparison_id=cid, annotator_id=a, preference=1 + (k % 5) / 4)
    assert_aggregate_exact(store)
    with store.transaction() as tx:
        tx.execute("UPDATE annotators SET group_name = 'j1' WHERE name = 'crowd/2'")
    assert_aggregate_exact(store)
    with store.transaction() as tx:
        tx.execute("UPDATE outputs SET generator = 'm9' WHERE generator = 'm2'")
    assert_aggregate_exact(store)
    lengths_exact(store)
    other = store.conn.execute("SELECT output_2_id FROM comparisons WHERE id = ?", (cids[-1],))
    with store.transaction() as tx:
        tx.execute("UPDATE comparisons SET output_2_id = ? WHERE id = ?", (other.fetchone()[0], cids[0]))
    assert_aggregate_exact(store)


def test_output_lengths_follow_inserts_deletes_and_edits(store):
    cids, _ = world(store)
    lengths_exact(store)
    with store.transaction() as tx:
        iid = tx.instruction_id("instruction 0")
        lone = tx.output_id(iid, "m4", "a lone output with no comparison")
        tx.output_id(iid, "m4", "x")
    lengths_exact(store)
    for sql, args in (("UPDATE texts SET length = length + 5 WHERE body = 'x'", ()),
                      ("DELETE FROM outputs WHERE id = ?", (lone,)),
                      ("DELETE FROM outputs WHERE generator = 'm4'", ())):  # fmt: skip
        with store.transaction() as tx:
            tx.execute(sql, args)
        lengths_exact(store)
    assert "m4" not in q.avg_lengths(store)


def test_rolled_back_changes_leave_the_sums_alone(store):
    cids, anns = world(store)
    with store.transaction() as tx:
        tx.add_annotation(comparison_id=cids[0], annotator_id=anns[0], preference=2.0)
    before = stored(store)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.add_annotation(comparison_id=cids[0], annotator_id=anns[0], preference=1.0)
        tx.retract_annotation(1)
        raise RuntimeError("abort")
    assert stored(store) == before
    assert_aggregate_exact(store)


def test_store_and_metrics_agree_on_the_sums_columns():
    from tiebreak.core.metrics import winrate

    assert q.SUMS_COLUMNS == winrate.SUMS_COLUMNS


def test_empty_database_gives_empty_sums(store):
    sums = q.winrate_sums(store)
    assert sums.empty and list(sums.index.names) == ["generator_2", "generator_1", "annotator"]
    assert from_sums(sums).empty
    assert q.avg_lengths(store) == {}


def test_sample_database_aggregate_equals_scan(metrics_sample_db):
    s = Store(metrics_sample_db)
    try:
        assert_aggregate_exact(s)
        lengths_exact(s)
        kept, scan = q.winrate_sums(s), q.winrate_sums_scan(s)
        assert kept.index.equals(scan.index)
        for col in kept.columns:
            assert kept[col].to_numpy() == pytest.approx(scan[col].to_numpy(), abs=1e-9), col
        only = q.winrate_sums(s, groups=["alpaca_eval_gpt4"], references=["text_davinci_003"])
        assert list(only.index) == [("alpaca-7b", "text_davinci_003", "alpaca_eval_gpt4")]
    finally:
        s.close()
