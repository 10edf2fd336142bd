"""The unit of work: only a transaction writes, each user action commits at once and whole."""

from __future__ import annotations

import ast
import re
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.core.test_spotcheck_audit import build_spotcheck_store
from tests.gui._data import REFERENCE, fill_store
from tiebreak.core.domain import Choice
from tiebreak.core.labelling.session import LabellingSession, QueueSpec
from tiebreak.core.review.audit import sample_audit
from tiebreak.core.review.session import ReviewSession
from tiebreak.core.store import DiskFull, Store, StoreError, Transaction
from tiebreak.core.store.guard import WriteOutsideTransaction

ROOT = Path(__file__).resolve().parents[2]
WRITE_METHODS = ("intern_text", "instruction_id", "output_id", "comparison_id", "annotator_id",
                 "start_session", "end_session", "add_annotation", "retract_annotation",
                 "restore_annotation", "execute", "executemany")  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Store:
    s = Store(tmp_path / "t.sqlite", create=True)
    yield s
    s.close()


def other_count(path: Path, sql: str) -> int:
    """A count seen by another connection (what another process would see)."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_only_a_transaction_has_write_methods(db: Store) -> None:
    for name in WRITE_METHODS:
        assert not hasattr(db, name), name
        assert callable(getattr(Transaction, name)), name
    assert not hasattr(db, "atomic")


@pytest.mark.parametrize("sql", [
    "INSERT INTO texts (sha1, body, length) VALUES ('x', 'x', 1)",
    "  -- a comment first\n update texts SET body = 'y'",
    "/* x */ DELETE FROM texts",
    "WITH t AS (SELECT 1) INSERT INTO texts (sha1, body, length) SELECT 'z', 'z', 1 FROM t",
    "BEGIN", "CREATE TABLE mine (x)", "DROP TABLE texts",
])  # fmt: skip
def test_a_write_outside_a_transaction_is_refused_and_the_next_one_commits(db: Store, sql: str) -> None:
    for run in (db.conn.execute, db.conn.cursor().execute, lambda q: db.conn.executemany(q, [()])):
        with pytest.raises(WriteOutsideTransaction, match="store.transaction"):
            run(sql)
    with pytest.raises(WriteOutsideTransaction):
        db.conn.executescript("SELECT 1;")
    assert not db.conn.in_transaction
    assert db.conn.execute("SELECT count(*) FROM texts").fetchone()[0] == 0  # reads pass
    with db.transaction() as tx:
        tx.intern_text("seen by others")
    assert not db.conn.in_transaction
    assert other_count(db.path, "SELECT count(*) FROM texts") == 1


def test_a_transaction_object_is_dead_after_its_block(db: Store) -> None:
    with db.transaction() as tx:
        tx.intern_text("a")
    with pytest.raises(StoreError, match="transaction has ended"):
        tx.intern_text("b")


def test_exception_mid_action_writes_nothing_and_leaves_no_transaction(db: Store) -> None:
    with pytest.raises(RuntimeError), db.transaction() as tx:
        iid = tx.instruction_id("q")
        tx.output_id(iid, "m", "an answer")
        raise RuntimeError("boom")
    assert not db.conn.in_transaction and not db.in_transaction
    assert db.counts()["instructions"] == 0 and db.counts()["outputs"] == 0
    with db.transaction() as tx:  # the text cache was dropped with the rollback: ids are real
        iid = tx.instruction_id("q")
    assert db.conn.execute("SELECT count(*) FROM texts").fetchone()[0] == 1


def test_nested_calls_join_one_transaction(db: Store) -> None:
    with pytest.raises(RuntimeError), db.transaction() as outer:
        outer.intern_text("outer")
        with db.transaction() as inner:
            assert inner is outer
            inner.intern_text("inner")
        raise RuntimeError("abort the whole action")
    assert db.conn.execute("SELECT count(*) FROM texts").fetchone()[0] == 0


def test_another_thread_waits_for_the_transaction(db: Store) -> None:
    order: list[str] = []

    def work() -> None:
        with db.transaction() as tx:
            tx.intern_text("second")
            order.append("worker")

    with db.transaction() as tx:
        worker = threading.Thread(target=work)
        tx.intern_text("first")
        worker.start()
        worker.join(0.2)
        order.append("main")
    worker.join()
    assert order == ["main", "worker"]
    assert other_count(db.path, "SELECT count(*) FROM texts") == 2


def _labelling(store: Store) -> LabellingSession:
    fill_store(store, 3)
    return LabellingSession.open(store, QueueSpec("alice", REFERENCE, ("cand-a", "cand-b")))


def test_each_labelling_action_is_committed_at_once(db: Store) -> None:
    session = _labelling(db)
    live = "SELECT count(*) FROM annotations WHERE source = 'label' AND retracted_at IS NULL"
    change = session.record(Choice.LEFT)
    assert other_count(db.path, live) == 1
    undone = session.undo(change)
    assert other_count(db.path, live) == 0
    session.redo(undone)
    assert other_count(db.path, live) == 1
    session.skip()
    assert other_count(db.path, "SELECT count(*) FROM skips") == 1
    session.flag("odd")
    assert other_count(db.path, "SELECT count(*) FROM flags") == 1
    session.close()
    assert other_count(db.path, "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL") == 1
    assert not db.conn.in_transaction


def test_pandas_reads_through_the_guarded_connection(db: Store) -> None:
    import warnings

    with db.transaction() as tx:
        tx.intern_text("a")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas takes it as an sqlite3 connection, no warning
        frame = db.annotations_frame()
    assert frame.empty and "preference" in frame.columns


def test_reading_the_current_item_never_writes(db: Store) -> None:
    session = _labelling(db)
    before = db.conn.total_changes
    for _ in range(3):
        session.current()
        session.upcoming()
    assert db.conn.total_changes == before


def test_reading_the_current_review_item_never_writes(db: Store) -> None:
    build_spotcheck_store(db, n_instructions=10)
    sample_audit(db, "gpt4_judge", 4, "uniform", seed=1)
    session = ReviewSession.open_review(db, "rita", "gpt4_judge")
    before = db.conn.total_changes
    session.current()
    session.current()
    assert db.conn.total_changes == before


def test_blind_review_vote_and_its_reveal_commit_together_or_not_at_all(db: Store) -> None:
    build_spotcheck_store(db, n_instructions=10)
    sample_audit(db, "gpt4_judge", 4, "uniform", seed=1)
    session = ReviewSession.open_review(db, "rita", "gpt4_judge")
    session.current()
    with db.transaction() as tx:  # the reveal record fails (as a full disk or a bug would)
        tx.execute("CREATE TEMP TRIGGER no_reveal BEFORE INSERT ON review_actions"
                   " BEGIN SELECT RAISE(ABORT, 'reveal refused'); END")  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError, match="reveal refused"):
        session.record(Choice.LEFT)
    assert other_count(db.path, "SELECT count(*) FROM annotations WHERE source = 'review'") == 0
    assert not db.conn.in_transaction
    with db.transaction() as tx:
        tx.execute("DROP TRIGGER temp.no_reveal")
    fresh = ReviewSession.open_review(db, "rita", "gpt4_judge")
    blind = fresh.record(Choice.LEFT)
    assert other_count(db.path, "SELECT count(*) FROM annotations WHERE source = 'review'") == 1
    assert other_count(db.path, "SELECT count(*) FROM review_actions WHERE retracted_at IS NULL") == 1
    fresh.undo(blind)  # undo retracts the vote and its review in one unit of work
    assert other_count(db.path, "SELECT count(*) FROM review_actions WHERE retracted_at IS NULL") == 0
    assert other_count(db.path, "SELECT count(*) FROM annotations WHERE source = 'review'"
                                " AND retracted_at IS NULL") == 0  # fmt: skip


def test_a_full_disk_is_a_store_error_and_rolls_back(db: Store) -> None:
    with db.transaction() as tx:
        tx.intern_text("small")
    pages = db.conn.execute("PRAGMA page_count").fetchone()[0]
    db.conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLite's own SQLITE_FULL path
    with pytest.raises(DiskFull, match="disk is full"), db.transaction() as tx:
        for i in range(200):
            tx.intern_text(f"{i} " + "x" * 4000)
    assert not db.conn.in_transaction
    assert db.conn.execute("SELECT count(*) FROM texts").fetchone()[0] == 1


# -- static guards over the code base ----------------------------------------------------------
_WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


def _first_string(node: ast.Call) -> str | None:
    if not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        return "".join(v.value for v in arg.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def _conn_writes(path: Path) -> list[str]:
    """``<x>.conn.execute("INSERT ...")``-style calls (writes that bypass a transaction)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("execute", "executemany", "executescript"):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Attribute) and owner.attr == "conn"):
            continue
        sql = _first_string(node)
        if sql is not None and _WRITE_SQL.match(sql):
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            found.append(f"{where}:{node.lineno}")
    return found


def test_no_write_bypasses_the_unit_of_work_outside_the_store() -> None:
    files = [p for d in ("core", "gui") for p in (ROOT / d).rglob("*.py") if "store" not in p.relative_to(ROOT).parts]
    assert files
    offenders = [hit for p in files for hit in _conn_writes(p)]
    assert offenders == []


def test_the_guard_catches_a_direct_write(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text('def f(store):\n    store.conn.execute(f"""UPDATE annotations SET x = {1}""")\n'
                   '    store.conn.execute("SELECT 1")\n    tx.execute("INSERT INTO t VALUES (1)")\n', "utf-8")
    assert _conn_writes(bad) == ["probe.py:2"]


def test_atomic_is_gone_everywhere() -> None:
    hits = [f"{p.relative_to(ROOT)}" for d in ("core", "gui", "tests", "benchmarks")
            for p in (ROOT / d).rglob("*.py") if ".atomic()" in p.read_text("utf-8")
            and p.name != "test_store_transactions.py"]  # fmt: skip
    assert hits == []
