"""The leaderboard's LC cache: never stale (each LC method), same output as a fresh computation, optional."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from tiebreak.core.cli import build_parser, cmd_leaderboard, main
from tiebreak.core.metrics import lc_cache
from tiebreak.core.metrics.boards import compute_boards
from tiebreak.core.store import Store

JUDGE = "weighted_alpaca_eval_gpt4_turbo"
REF = "gpt4_1106_preview"
MODEL = "claude-2.1"


@pytest.fixture
def db(metrics_sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of the AlpacaEval sample database with an empty cache."""
    return _copy(metrics_sample_db, tmp_path / "lb.sqlite")


def _copy(src: Path, dst: Path, *, clear: bool = True) -> Path:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
        if clear:
            b.execute("DELETE FROM lc_cache")
    return dst


def leaderboard(capsys, db: Path, *opts: str) -> str:
    assert main(["leaderboard", "--db", str(db), "--format", "json", *opts]) == 0
    return capsys.readouterr().out


def fresh(capsys, db: Path, *opts: str) -> str:
    """The output without any cached row (a copy of ``db`` with the cache emptied)."""
    return leaderboard(capsys, _copy(db, db.with_name(f"fresh-{db.name}")), *opts)


def cache_hit(db: Path, *opts: str) -> bool:
    args = build_parser(command="leaderboard").parse_args(["leaderboard", "--db", str(db), *opts])
    store = Store(db)
    try:
        return cmd_leaderboard.cached_records(store, args) is not None
    finally:
        store.close()


def lc_of(out: str, model: str = MODEL, group: str = JUDGE) -> tuple:
    row = next(r for r in json.loads(out) if r["generator_2"] == model and r["annotator"] == group)
    return row["length_controlled_winrate"], row["lc_standard_error"], row["lc_method"], row["win_rate"]


def add_label(db: Path, preference: float) -> int:
    """One more judge annotation of MODEL against REF (a new seed: a second verdict on a comparison)."""
    store = Store(db)
    try:
        cid, aid = store.conn.execute(
            """SELECT c.id, a.annotator_id FROM comparisons c JOIN outputs o1 ON o1.id = c.output_1_id
               JOIN outputs o2 ON o2.id = c.output_2_id JOIN annotations a ON a.comparison_id = c.id
               JOIN annotators an ON an.id = a.annotator_id
               WHERE o1.generator = ? AND o2.generator = ? AND an.group_name = ? ORDER BY c.id LIMIT 1""",
            (REF, MODEL, JUDGE),
        ).fetchone()  # fmt: skip
        with store.transaction() as tx:
            return tx.add_annotation(comparison_id=cid, annotator_id=aid, preference=preference, seed=991)
    finally:
        store.close()


def retract(db: Path, annotation_id: int) -> None:
    store = Store(db)
    try:
        with store.transaction() as tx:
            tx.retract_annotation(annotation_id)
    finally:
        store.close()


METHODS = {
    "fit": [],  # difficulty estimated jointly (the judge's panel), fit_no_difficulty (one-model panels)
    "fit_no_difficulty": ["--min-models", "100"],
    "published": ["--annotator", JUDGE, "--lc-weights", "{lb}/lc_weights_{JUDGE}_baseline_{REF}.csv",
                  "--lc-difficulty", "{lb}/instruction_difficulty_derived.csv"],
    "fit_alpaca_eval": ["--annotator", JUDGE, "--lc-difficulty", "{lb}/instruction_difficulty_derived.csv"],
}  # fmt: skip


@pytest.mark.parametrize("method", list(METHODS))
def test_adding_and_retracting_a_label_changes_lc_as_a_fresh_computation(method, db, alpaca_dir, capsys):
    """Per LC method: a cached leaderboard equals the fresh one; after one more label and after its
    retraction the printed LC is exactly what a computation without the cache prints."""
    lb = alpaca_dir / "leaderboards"
    opts = [o.format(lb=lb, JUDGE=JUDGE, REF=REF) for o in METHODS[method]]
    before = leaderboard(capsys, db, *opts)  # a miss: computed and stored
    assert lc_of(before)[2] == method
    assert cache_hit(db, *opts)
    assert leaderboard(capsys, db, *opts) == before  # served from the cache: the same text
    new = add_label(db, 2.0 if lc_of(before)[3] < 0.5 else 1.0)
    assert not cache_hit(db, *opts)  # the panel changed: its rows are stale
    after = leaderboard(capsys, db, *opts)
    assert after == fresh(capsys, db, *opts)
    assert lc_of(after)[3] != lc_of(before)[3]
    if method != "published":  # published weights: LC moves only through the difficulty rows
        assert lc_of(after)[0] != lc_of(before)[0]
    assert cache_hit(db, *opts) and leaderboard(capsys, db, *opts) == after
    retract(db, new)
    assert not cache_hit(db, *opts)
    undone = leaderboard(capsys, db, *opts)
    assert undone == fresh(capsys, db, *opts) == before


def test_changed_output_lengths_invalidate_every_panel(db, capsys):
    """A text's length (an output the fits read) bumps the global version: all rows recomputed."""
    before = leaderboard(capsys, db)
    store = Store(db)
    try:
        with store.transaction() as tx:
            tx.execute("""UPDATE texts SET length = length * 3 WHERE id IN (SELECT o.text_id FROM outputs o
                          WHERE o.generator = ? LIMIT 200)""", (MODEL,))  # fmt: skip
    finally:
        store.close()
    assert not cache_hit(db)
    after = leaderboard(capsys, db)
    assert after == fresh(capsys, db) and lc_of(after)[0] != lc_of(before)[0]


def test_a_label_in_one_panel_keeps_the_other_panels_cached(db, capsys):
    """Only the changed panel is fitted again; the other panels' rows are served from the cache."""
    leaderboard(capsys, db)
    store = Store(db)
    try:
        old = lc_cache.versions(store)
        (other,) = store.conn.execute(
            "SELECT DISTINCT annotator FROM winrate_sums WHERE annotator != ? LIMIT 1", (JUDGE,)
        ).fetchone()
    finally:
        store.close()
    add_label(db, 2.0)
    store = Store(db)
    try:
        new = lc_cache.versions(store)
        assert new.data == old.data and new.panel(JUDGE, REF) > old.panel(JUDGE, REF)
        assert {k: v for k, v in new.panels.items() if k != (JUDGE, REF)} == {
            k: v for k, v in old.panels.items() if k != (JUDGE, REF)
        }
    finally:
        store.close()
    with sqlite3.connect(db) as con:  # mark the other panel's cached rows: they must be reused as they are
        con.execute("UPDATE lc_cache SET lc_note = 'kept' WHERE annotator = ?", (other,))
    rows = json.loads(leaderboard(capsys, db))
    assert {r["annotator"] for r in rows if "LC: kept" in r["note"]} == {other}
    expected = json.loads(fresh(capsys, db))
    assert [r for r in rows if r["annotator"] == JUDGE] == [r for r in expected if r["annotator"] == JUDGE]


def test_a_locked_database_prints_the_leaderboard_without_caching(db, capsys):
    """Another program holds the write lock: the leaderboard is printed (as fresh), nothing cached."""
    expected = fresh(capsys, db)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        assert leaderboard(capsys, db) == expected
        assert other.execute("SELECT count(*) FROM lc_cache").fetchone()[0] == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert leaderboard(capsys, db) == expected and cache_hit(db)


def test_save_is_skipped_inside_a_read_snapshot(db):
    store = Store(db)
    try:
        with store.snapshot():
            p = lc_cache.Pending("m", lc_cache.versions(store), ((("a", "b", "c"), (0.5, 0.0, "fit", "", 0.1, 0.9, "")),))
            assert lc_cache.save(store, p) is False
        assert lc_cache.save(store, p) is True
        assert store.conn.execute("SELECT lc_method FROM lc_cache WHERE method = 'm'").fetchone() == ("fit",)
    finally:
        store.close()


def test_method_key_covers_the_lc_options_and_file_contents(tmp_path):
    weights, difficulty = tmp_path / "lc_weights_j_baseline_r.csv", tmp_path / "d.csv"
    weights.write_text("x\n"), difficulty.write_text("d\n")
    keys = {lc_cache.method_key(3), lc_cache.method_key(4), lc_cache.method_key(3, None, str(difficulty)),
            lc_cache.method_key(3, str(weights), str(difficulty)),
            lc_cache.method_key(3, str(weights), str(difficulty), "other")}  # fmt: skip
    assert len(keys) == 5 and None not in keys
    before = lc_cache.method_key(3, str(weights), str(difficulty))
    difficulty.write_text("d2\n")
    assert lc_cache.method_key(3, str(weights), str(difficulty)) != before
    assert lc_cache.method_key(3, None, str(tmp_path / "missing.csv")) is None


def test_gui_boards_cache_after_their_snapshot(db):
    """compute_boards reads in one snapshot, stores the cache after it; the next call is served from it."""
    store = Store(db)
    try:
        first = compute_boards(store, n_resamples=0, paired=False)
        assert store.conn.execute("SELECT count(*) FROM lc_cache").fetchone()[0] == len(first.models)
        second = compute_boards(store, n_resamples=0, paired=False)
        pd.testing.assert_frame_equal(first.models, second.models)
    finally:
        store.close()
    assert cache_hit(db)


def test_every_change_that_can_move_a_fit_bumps_a_version(db):
    """Triggers: annotation changes bump their panel; structural changes bump the global version."""
    store = Store(db)
    try:
        (aid,) = store.conn.execute("SELECT min(id) FROM annotations").fetchone()
        global_changes = [
            "UPDATE annotators SET group_name = group_name || '_x' WHERE id = (SELECT min(id) FROM annotators)",
            "UPDATE outputs SET generator = generator || '_x' WHERE id = (SELECT max(id) FROM outputs)",
            "UPDATE texts SET length = length + 1 WHERE id = (SELECT text_id FROM outputs LIMIT 1)",
            "UPDATE comparisons SET instruction_id = instruction_id WHERE id = (SELECT min(id) FROM comparisons)",
            "UPDATE instructions SET text_id = text_id WHERE id = (SELECT min(id) FROM instructions)",
        ]
        for sql in global_changes:
            before = lc_cache.versions(store)
            with store.transaction() as tx:
                tx.execute(sql)
            assert lc_cache.versions(store).data == before.data + 1, sql
        for sql in (f"UPDATE annotations SET preference = 1.5 WHERE id = {aid}",
                    f"UPDATE annotations SET retracted_at = '2026-01-01' WHERE id = {aid}",
                    f"DELETE FROM annotations WHERE id = {aid}"):  # fmt: skip
            before = lc_cache.versions(store)
            with store.transaction() as tx:
                tx.execute(sql)
            after = lc_cache.versions(store)
            assert after.data == before.data and sum(after.panels.values()) > sum(before.panels.values()), sql
        before = lc_cache.versions(store)
        with store.transaction() as tx:
            tx.execute("UPDATE annotations SET rationale = 'x' WHERE id = (SELECT max(id) FROM annotations)")
        assert lc_cache.versions(store) == before  # a change no fit reads bumps nothing
    finally:
        store.close()


def test_excluded_annotators_bypass_the_cache(db, capsys):
    """--exclude drops rows the stored sums and the cache hold: computed afresh, never cached."""
    store = Store(db)
    try:
        (name,) = store.conn.execute(
            "SELECT name FROM annotators WHERE group_name != ? ORDER BY id LIMIT 1", (JUDGE,)
        ).fetchone()
    finally:
        store.close()
    full = leaderboard(capsys, db)
    assert cache_hit(db) and not cache_hit(db, "--exclude", name)
    out = leaderboard(capsys, db, "--exclude", name)
    assert out == fresh(capsys, db, "--exclude", name) != full
    assert leaderboard(capsys, db) == full
