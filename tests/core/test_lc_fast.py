"""The pandas-free cold leaderboard path: the same records as the pandas path, every case it takes."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tiebreak.core.cli import build_parser, cmd_leaderboard, main
from tiebreak.core.metrics import lc_cache, lc_fast
from tiebreak.core.metrics import sql_arrays as sa
from tiebreak.core.metrics.intervals import interval_table
from tiebreak.core.metrics.lc import length_controlled
from tiebreak.core.store import Store

MODELS = [f"m{k}" for k in range(6)]
NUMERIC = ("win_rate", "standard_error", "discrete_win_rate", "avg_length", "length_controlled_winrate",
           "lc_standard_error", "wilson_low", "wilson_high", "bca_low", "bca_high")  # fmt: skip


def build(path: Path, seed: int = 5) -> Path:
    """Two references, three annotator groups (one judge with soft labels, humans with ties and nulls,
    a group below --min-models), a model with only null labels, the reference against itself, a
    retracted label, and every generator's outputs interleaved (ids not contiguous per generator)."""
    rng = random.Random(seed)
    store = Store(path, create=True)
    try:
        with store.transaction() as tx:
            judge = tx.annotator_id("j1", "judge", group="judge")
            humans = [tx.annotator_id(n, "human", group="humans", member=n) for n in ("ann", "bob")]
            solo = tx.annotator_id("sol", "human", group="solo", member="sol")
            for i in range(60):
                instr = tx.instruction_id(f"instruction {i}: " + "x" * rng.randint(0, 50))
                out = {g: tx.output_id(instr, g, f"{g} {i} " + "w " * rng.randint(1, 300))
                       for g in ["refA", *MODELS, "refB"]}  # fmt: skip
                for g in MODELS:
                    pref = None if g == "m5" or rng.random() < 0.05 else (1 + rng.random() if rng.random() < 0.6
                                                                           else rng.choice([1.0, 1.5, 2.0]))  # fmt: skip
                    tx.add_annotation(comparison_id=tx.comparison_id(instr, out["refA"], out[g]),
                                      annotator_id=judge, preference=pref)  # fmt: skip
                for g in MODELS[:4]:
                    cid = tx.comparison_id(instr, out["refB"], out[g])
                    for h in humans:
                        tx.add_annotation(comparison_id=cid, annotator_id=h,
                                          preference=rng.choice([1.0, 1.5, 2.0, 2.0, None]))  # fmt: skip
                if i % 3 == 0:
                    tx.add_annotation(comparison_id=tx.comparison_id(instr, out["refB"], out["m0"]),
                                      annotator_id=solo, preference=rng.choice([1.0, 2.0]))  # fmt: skip
                    tx.add_annotation(comparison_id=tx.comparison_id(instr, out["refA"], out["refA"]),
                                      annotator_id=judge, preference=1.5)  # fmt: skip
            first = tx.conn.execute("SELECT min(id) FROM annotations").fetchone()[0]
            tx.retract_annotation(first)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("lcfast") / "lc.sqlite")


def copy(src: Path, dst: Path) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
        b.execute("DELETE FROM lc_cache")
    return dst


def both_paths(db: Path, tmp_path: Path, *opts: str) -> tuple[list[dict], list[dict]]:
    """(fast records, pandas records) for the same options, each from its own copy with an empty cache."""
    args = build_parser(command="leaderboard").parse_args(["leaderboard", "--format", "json", *opts])
    fast_store, pandas_store = Store(copy(db, tmp_path / "fast.sqlite")), Store(copy(db, tmp_path / "pd.sqlite"))
    try:
        fast = cmd_leaderboard.fresh_records(fast_store, args)
        table = cmd_leaderboard.compute(pandas_store, args, bootstrap=False)
    finally:
        fast_store.close(), pandas_store.close()
    return fast, cmd_leaderboard.to_records(table)


def assert_same(fast: list[dict], slow: list[dict]) -> None:
    assert [tuple(r[k] for k in ("generator_2", "generator_1", "annotator")) for r in fast] == [
        tuple(r[k] for k in ("generator_2", "generator_1", "annotator")) for r in slow]  # fmt: skip
    for a, b in zip(fast, slow, strict=True):
        assert set(a) == set(b)
        for k in a:
            if k in NUMERIC:
                x, y = a[k], b[k]
                assert (x is None or math.isnan(x)) == (y is None or math.isnan(y)), (a["generator_2"], k, x, y)
                if x is not None and not math.isnan(x):
                    assert x == pytest.approx(y, abs=1e-12, rel=0), (a["generator_2"], k)
            else:
                assert a[k] == b[k], (a["generator_2"], k)


@pytest.mark.parametrize("opts", [
    [], ["--annotator", "humans"], ["--reference", "refB"], ["--annotator", "judge", "--reference", "refA"],
    ["--exclude", "ann"], ["--exclude", "j1"], ["--min-models", "9"], ["--min-models", "1"],
], ids=lambda o: " ".join(o) or "all")  # fmt: skip
def test_fast_records_equal_the_pandas_path(db, tmp_path, opts):
    fast, slow = both_paths(db, tmp_path, *opts)
    assert fast is not None and len(fast) > 0
    assert_same(fast, slow)


def test_the_cases_are_really_there(db, tmp_path):
    """The data exercises what it claims: every LC method, null and tied labels, several panels."""
    fast, _ = both_paths(db, tmp_path)
    methods = {r["lc_method"] for r in fast}
    assert methods == {"fit", "fit_no_difficulty", "reference", "none"}
    assert {(r["generator_1"], r["annotator"]) for r in fast} == {("refA", "judge"), ("refB", "humans"),
                                                                  ("refB", "solo")}  # fmt: skip
    assert sum(r["n_dropped"] for r in fast) > 60 and sum(r["n_draws"] for r in fast) > 20
    store = Store(db)
    try:  # generators' output ids are interleaved: the per-generator fallback of generator_codes runs
        ranges = store.conn.execute("SELECT max(id) - min(id) + 1, count(*) FROM outputs GROUP BY generator").fetchall()
        assert all(span > n for span, n in ranges)
    finally:
        store.close()


def test_fast_path_stores_the_cache_the_warm_path_then_serves(db, tmp_path, capsys):
    """Cold CLI run (fast path) then warm run (cache only): identical output; the cache rows are current."""
    path = copy(db, tmp_path / "cli.sqlite")
    assert main(["leaderboard", "--db", str(path), "--format", "json"]) == 0
    cold = capsys.readouterr().out
    args = build_parser(command="leaderboard").parse_args(["leaderboard", "--db", str(path)])
    store = Store(path)
    try:
        assert cmd_leaderboard.cached_records(store, args) is not None
        n_cached = store.conn.execute("SELECT count(*) FROM lc_cache").fetchone()[0]
    finally:
        store.close()
    assert n_cached == len(json.loads(cold))
    assert main(["leaderboard", "--db", str(path), "--format", "json"]) == 0
    assert capsys.readouterr().out == cold


def test_excluded_workers_are_not_cached(db, tmp_path):
    path = copy(db, tmp_path / "ex.sqlite")
    args = build_parser(command="leaderboard").parse_args(["leaderboard", "--exclude", "ann"])
    store = Store(path)
    try:
        records = cmd_leaderboard.fresh_records(store, args)
        assert store.conn.execute("SELECT count(*) FROM lc_cache").fetchone()[0] == 0
    finally:
        store.close()
    humans = [r for r in records if r["annotator"] == "humans"]
    assert humans and all(r["n_total"] + r["n_dropped"] == 60 for r in humans)  # bob's labels only


def test_only_stale_panels_are_refitted(db, tmp_path):
    """A label in one panel: the other panels' cached rows are reused as they are (not recomputed)."""
    path = copy(db, tmp_path / "stale.sqlite")
    args = build_parser(command="leaderboard").parse_args(["leaderboard"])
    store = Store(path)
    try:
        cmd_leaderboard.fresh_records(store, args)
        with store.transaction() as tx:  # mark the cached judge rows, then change the solo panel
            tx.execute("UPDATE lc_cache SET lc_note = 'kept' WHERE annotator = 'judge'")
            sol = tx.conn.execute("SELECT id FROM annotators WHERE name = 'sol'").fetchone()[0]
            cid = tx.conn.execute("SELECT comparison_id FROM annotations WHERE annotator_id = ?", [sol]).fetchone()[0]
            tx.add_annotation(comparison_id=cid, annotator_id=sol, preference=2.0)
        records = cmd_leaderboard.fresh_records(store, args)
    finally:
        store.close()
    notes = {r["annotator"]: r["note"] for r in records if r["generator_2"] == "m0"}
    assert "LC: kept" in notes["judge"] and "LC: kept" not in notes["solo"]


def test_a_stale_panel_is_fitted_from_its_own_rows_only_with_the_numbers_of_a_full_read(db, tmp_path, monkeypatch):
    """After a label by one group, only that group's rows are read; its records equal a cold full read."""
    path = copy(db, tmp_path / "one.sqlite")
    args = build_parser(command="leaderboard").parse_args(["leaderboard", "--format", "json"])
    reads: list[tuple] = []
    real = lc_fast.lc_rows

    def counting(store, **kw):
        rows = real(store, **kw)
        reads.append((kw.get("groups"), kw.get("references"), len(rows.preference)))
        return rows

    monkeypatch.setattr(lc_fast, "lc_rows", counting)
    store = Store(path)
    try:
        cmd_leaderboard.fresh_records(store, args)  # cold: every panel, every row
        with store.transaction() as tx:
            ann = tx.conn.execute("SELECT id FROM annotators WHERE name = 'ann'").fetchone()[0]
            cid = tx.conn.execute("SELECT comparison_id FROM annotations WHERE annotator_id = ?", [ann]).fetchone()[0]
            tx.add_annotation(comparison_id=cid, annotator_id=ann, preference=1.0)
        partial = cmd_leaderboard.fresh_records(store, args)
        assert cmd_leaderboard.fresh_records(store, args) == partial  # nothing stale: nothing read
        n_live = store.conn.execute("SELECT count(*) FROM annotations WHERE retracted_at IS NULL").fetchone()[0]
        n_humans = store.conn.execute("SELECT count(*) FROM annotations a JOIN annotators n ON n.id = a.annotator_id"
                                      " WHERE a.retracted_at IS NULL AND n.group_name = 'humans'").fetchone()[0]  # fmt: skip
    finally:
        store.close()
    assert reads[0][2] == n_live - 1  # every live row before the new label
    assert reads[1] == (["humans"], ["refB"], n_humans) and len(reads) == 2
    cold = copy(path, tmp_path / "cold.sqlite")  # the same data, nothing cached: every panel fitted
    fresh_store = Store(cold)
    try:
        full = cmd_leaderboard.fresh_records(fresh_store, args)
    finally:
        fresh_store.close()
    assert_same(partial, full)


def test_cache_rows_equal_length_controlled_and_interval_table_with_legacy_zero_preferences():
    """Preference 0 (AlpacaEval's legacy tie; the schema cannot hold it) counts as a tie in both paths."""
    rng = np.random.default_rng(11)
    rows = 4 * 30
    frame = pd.DataFrame({
        "generator_2": np.repeat(["a", "b", "c", "d"], 30), "generator_1": "ref", "annotator": "g",
        "instruction_id": np.tile(np.arange(30), 4), "length_1": rng.integers(50, 500, rows),
        "length_2": rng.integers(50, 500, rows), "preference": rng.choice([0.0, 1.0, 1.5, 2.0, 1.3, np.nan], rows),
    })  # fmt: skip
    keys = ["a", "b", "c", "d"]
    coded = lc_fast.Coded(keys=[(k, "ref", "g") for k in keys], key=np.repeat(np.arange(4), 30),
                          instruction=frame["instruction_id"].to_numpy(),
                          delta=(frame["length_1"] - frame["length_2"]).to_numpy(float),
                          preference=frame["preference"].to_numpy(float))  # fmt: skip
    fast = lc_fast.cache_rows(coded, 3)
    lc = length_controlled(frame)
    iv = interval_table(frame, bootstrap=False)
    for k in keys:
        key = (k, "ref", "g")
        want = (*lc.loc[key, ["length_controlled_winrate", "lc_standard_error", "lc_method", "lc_note"]],
                *iv.loc[key, ["wilson_low", "wilson_high", "interval_note"]])  # fmt: skip
        got = fast[key]
        assert got[2:4] == tuple(want[2:4]) and got[6] == want[6]
        np.testing.assert_allclose(np.array(got)[[0, 1, 4, 5]].astype(float), np.array(want)[[0, 1, 4, 5]].astype(float),
                                   rtol=0, atol=1e-12)  # fmt: skip


def test_packed_ids_fall_back_to_columns_of_their_own(db, tmp_path):
    """Ids too wide to pack (here an annotator id near 2^62) get a column of their own: same rows read."""
    path = copy(db, tmp_path / "wide.sqlite")
    store = Store(path)
    try:
        before = sa.lc_rows(store)
        with store.transaction() as tx:
            sol = tx.conn.execute("SELECT id FROM annotators WHERE name = 'sol'").fetchone()[0]
            tx.execute("INSERT INTO annotators (id, name, kind, group_name, created_at) "
                       "VALUES (?, 'sol2', 'human', 'solo', '2026-01-01')", [(1 << 62) + 5])  # fmt: skip
            tx.execute("UPDATE annotations SET annotator_id = ? WHERE annotator_id = ?", [(1 << 62) + 5, sol])
        layout = sa._layout(store)
        after = sa.lc_rows(store)
    finally:
        store.close()
    assert [w for w in layout if w[0][0] == "annotator"] == [[("annotator", "a.annotator_id", 0, 64)]]
    assert (after.annotator == (1 << 62) + 5).sum() == 20
    for field in ("instruction", "output_1", "output_2", "length_2"):
        assert np.array_equal(getattr(after, field), getattr(before, field))
    np.testing.assert_array_equal(after.preference, before.preference)


def test_unknown_names_are_refused_as_by_the_pandas_path(db, tmp_path, capsys):
    path = copy(db, tmp_path / "names.sqlite")
    assert main(["leaderboard", "--db", str(path), "--annotator", "nobody"]) != 0
    assert "nobody" in capsys.readouterr().err
    store = Store(path)
    try:
        assert store.conn.execute("SELECT count(*) FROM lc_cache").fetchone()[0] == 0
    finally:
        store.close()


def test_method_key_of_the_fast_path_is_the_pandas_paths(db, tmp_path):
    """Rows stored by the fast path are served for the options the pandas path would have stored them for."""
    path = copy(db, tmp_path / "key.sqlite")
    store = Store(path)
    try:
        cmd_leaderboard.fresh_records(store, build_parser(command="leaderboard").parse_args(["leaderboard"]))
        methods = {m for (m,) in store.conn.execute("SELECT DISTINCT method FROM lc_cache")}
    finally:
        store.close()
    assert methods == {lc_cache.method_key(3)}


@pytest.mark.parametrize("scale", [1, 10**12], ids=["dense ids", "sparse ids"])
def test_first_order_codes_are_pandas_factorize(scale):
    values = np.random.default_rng(2).integers(0, 50, 400) * scale + 7
    codes, uniques = sa.first_order_codes(values)
    want_codes, want_uniques = pd.factorize(values)
    assert np.array_equal(codes, want_codes) and np.array_equal(uniques, want_uniques)
    empty_codes, empty_uniques = sa.first_order_codes(np.array([], dtype=np.int64))
    assert len(empty_codes) == len(empty_uniques) == 0


def test_rows_are_read_from_the_covering_indexes_and_without_them(db, tmp_path):
    """The row read scans the covering indexes of migration 0011 (no annotation row, no text body);
    a database without them (opened read-only before that migration) reads the same rows."""
    path = copy(db, tmp_path / "idx.sqlite")
    store = Store(path)
    try:
        assert sa._indexed_by(store) == ("INDEXED BY annotations_live_lc", "INDEXED BY texts_id_length")
        plan = " / ".join(r[-1] for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT t2.length, a.preference FROM annotations a INDEXED BY annotations_live_lc "
            "JOIN comparisons c ON c.id = a.comparison_id JOIN outputs o2 ON o2.id = c.output_2_id "
            "JOIN texts t2 INDEXED BY texts_id_length ON t2.id = o2.text_id WHERE a.retracted_at IS NULL ORDER BY a.id"))  # fmt: skip
        with_indexes = sa.lc_rows(store)
        with store.transaction() as tx:
            tx.execute("DROP INDEX annotations_live_lc")
            tx.execute("DROP INDEX texts_id_length")
        assert sa._indexed_by(store) == ("", "")
        without = sa.lc_rows(store)
    finally:
        store.close()
    assert "COVERING INDEX annotations_live_lc" in plan and "COVERING INDEX texts_id_length" in plan
    for field in ("instruction", "output_1", "output_2", "annotator", "length_2"):
        assert np.array_equal(getattr(with_indexes, field), getattr(without, field))
    np.testing.assert_array_equal(with_indexes.preference, without.preference)
