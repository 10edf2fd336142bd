"""The LC cache refresh after a write: every writer leaves the default leaderboard warm; a failure
of the refresh never fails or undoes the write (the cache stays stale, one line says so)."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from tests.support.crowd_data import label_all, right_always, small_round
from tests.support.judge_data import add_comparisons
from tiebreak.core.cli import build_parser, cmd_leaderboard, main
from tiebreak.core.crowd.merge import merge_files
from tiebreak.core.crowd.status import exclude_worker
from tiebreak.core.formats.importer import import_files
from tiebreak.core.metrics import lc_cache
from tiebreak.core.metrics.lc_refresh import DEFAULT_MIN_MODELS, refresh_stale_lc
from tiebreak.core.store import Store

JUDGE = "weighted_alpaca_eval_gpt4_turbo"


def _file(alpaca_dir: Path, model: str) -> Path:
    return alpaca_dir / "results" / model / JUDGE / "annotations.json"


def warm(db: Path) -> bool:
    """Whether the default ``tiebreak leaderboard`` is served from the cache alone (no fit)."""
    args = build_parser(command="leaderboard").parse_args(["leaderboard", "--db", str(db)])
    store = Store(db)
    try:
        return cmd_leaderboard.cached_records(store, args) is not None
    finally:
        store.close()


def annotations(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM annotations").fetchone()[0]


@pytest.fixture
def db(alpaca_dir: Path, tmp_path: Path) -> Path:
    """Two models judged, the cache warm."""
    path = tmp_path / "r.sqlite"
    store = Store(path, create=True)
    try:
        import_files(store, [_file(alpaca_dir, "alpaca-7b"), _file(alpaca_dir, "NullModel")])
        assert refresh_stale_lc(store).stored
    finally:
        store.close()
    return path


def test_the_refresh_uses_the_leaderboards_default_options():
    args = build_parser(command="leaderboard").parse_args(["leaderboard"])
    assert args.min_models == DEFAULT_MIN_MODELS


def test_a_refresh_fits_only_what_is_stale_and_reports_it(db, alpaca_dir):
    assert warm(db)
    store = Store(db)
    try:
        assert refresh_stale_lc(store).line().startswith("leaderboard cache: current")
        import_files(store, [_file(alpaca_dir, "claude-2.1")])
        result = refresh_stale_lc(store)
        assert (result.panels, result.rows, result.stored, result.problem) == (1, 3, True, None)
        assert "1 panel(s), 3 row(s) refitted in" in result.line()
    finally:
        store.close()
    assert warm(db)


def test_a_write_lock_at_refresh_time_leaves_the_import_committed_and_the_cache_stale(
    db, alpaca_dir, capsys, monkeypatch
):
    """Another program takes the write lock between the import's commit and the cache write."""
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    real_save = lc_cache.save

    def locked_then_save(store, pending):
        other.execute("BEGIN IMMEDIATE")
        return real_save(store, pending)

    monkeypatch.setattr(lc_cache, "save", locked_then_save)
    before = annotations(db)
    try:
        assert main(["import", "--db", str(db), str(_file(alpaca_dir, "claude-2.1"))]) == 0
        out, err = capsys.readouterr()
        assert "805 annotations (database:" in out
        assert "leaderboard cache not refreshed (the database is busy or cannot be written)" in err
    finally:
        other.execute("ROLLBACK")
        other.close()
    monkeypatch.undo()
    assert annotations(db) == before + 805 and not warm(db)
    assert main(["leaderboard", "--db", str(db)]) == 0 and "claude-2.1" in capsys.readouterr().out
    assert warm(db)  # the next leaderboard refitted as it always did


def test_a_failing_refresh_is_reported_never_raised(db, alpaca_dir):
    store = Store(db)
    try:
        import_files(store, [_file(alpaca_dir, "claude-2.1")])
        with sqlite3.connect(db) as other:
            other.execute("DROP TABLE lc_cache")  # the refresh's read then fails
        result = refresh_stale_lc(store)
        assert not result.stored and "no such table: lc_cache" in (result.problem or "")
        assert result.line().startswith("leaderboard cache not refreshed (OperationalError")
        assert store.conn.execute("SELECT count(*) FROM annotations").fetchone()[0] == 3 * 805
    finally:
        store.close()


def test_inside_a_transaction_nothing_is_read_or_written(db, alpaca_dir):
    store = Store(db)
    try:
        with store.transaction():
            import_files(store, [_file(alpaca_dir, "claude-2.1")])
            result = refresh_stale_lc(store)
        assert result.problem == "inside a transaction" and not result.stored
        assert store.conn.execute("SELECT count(*) FROM lc_cache WHERE model = 'claude-2.1'").fetchone() == (0,)
    finally:
        store.close()
    assert not warm(db)


def test_a_judge_run_leaves_the_leaderboard_warm(tmp_path, fake_openai, capsys):
    db = tmp_path / "j.sqlite"
    store = Store(db, create=True)
    add_comparisons(store, 5)
    store.close()
    assert main(["judge", "--db", str(db), "--config", "tiebreak-ranking", "--base-url", fake_openai.base_url,
                 "--reference", "ref", "--generator", "model"]) == 0  # fmt: skip
    assert "leaderboard cache: 1 panel(s), 1 row(s) refitted" in capsys.readouterr().err
    assert warm(db)


def test_a_crowd_merge_leaves_the_leaderboard_warm(tmp_path, capsys):
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    store.close()
    db = tmp_path / "coord.sqlite"
    pack = next(iter(made.packs.values()))
    assert label_all(pack, right_always) > 0
    assert main(["round", "merge", "--db", str(db), str(pack)]) == 0
    assert "refitted in" in capsys.readouterr().err
    assert warm(db)



def test_ctrl_c_during_the_refresh_keeps_the_import_and_its_exit_status(db, alpaca_dir, capsys, monkeypatch):
    real_save = lc_cache.save

    def interrupted_save(store, pending):
        signal.raise_signal(signal.SIGINT)  # the user presses ^C while the cache is written
        return real_save(store, pending)

    monkeypatch.setattr(lc_cache, "save", interrupted_save)
    before = annotations(db)
    assert main(["import", "--db", str(db), str(_file(alpaca_dir, "claude-2.1"))]) == 0
    out, err = capsys.readouterr()
    assert "805 annotations (database:" in out and "leaderboard cache not refreshed (interrupted)" in err
    assert annotations(db) == before + 805 and not warm(db)


def test_no_fit_while_crowd_workers_are_excluded_the_leaderboard_recomputes_without_them(tmp_path, capsys):
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    try:
        for pack in made.packs.values():
            label_all(pack, right_always)
        merge_files(store, list(made.packs.values()))
        exclude_worker(store, "r", "ann")
        stored = store.conn.execute("SELECT count(*) FROM lc_cache").fetchone()
        result = refresh_stale_lc(store)
        assert result.unused and not result.stored and result.panels == 0
        assert result.line().startswith("leaderboard cache: not used while crowd workers are excluded")
        assert store.conn.execute("SELECT count(*) FROM lc_cache").fetchone() == stored
    finally:
        store.close()
