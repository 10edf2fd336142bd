"""Merging packs by SQL from the attached files: the same rows as the Python path, slots, detach, files that change."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from tests.support.crowd_data import Clock, label_all, seeded_random, small_round, twin_of
from tiebreak.core.crowd import merge as merge_mod
from tiebreak.core.crowd.events import write_events
from tiebreak.core.crowd.merge import merge_files
from tiebreak.core.crowd.pack import open_pack_session
from tiebreak.core.labelling.session import ActiveClock
from tiebreak.core.store import Store

_EVENTS = ("SELECT uuid, round_id, pack_uuid, annotator_id, item_key, kind, choice, swapped, shown_at, submitted_at,"
           " seconds, note, refers_to, at, seq, local_id FROM crowd_events ORDER BY uuid")  # fmt: skip
_ANNOTATIONS = ("SELECT comparison_id, annotator_id, preference, raw_choice, raw_preference, swapped, seconds, extra,"
                " shown_at, submitted_at, created_at, retracted_at IS NULL FROM annotations ORDER BY id")  # fmt: skip


def _copies(store: Store) -> list[str]:
    """Record the statements that copy events from an attached pack (SQLite's own trace)."""
    seen: list[str] = []
    store.conn.set_trace_callback(lambda sql: seen.append(sql) if "crowd_merge_src" in sql and "INSERT" in sql else None)
    return seen


def _label(pack, n: int, choice: str = "left") -> None:  # type: ignore[no-untyped-def]
    """Answer the next ``n`` items of a pack through the labelling session."""
    clock = Clock()
    pstore, session, _ = open_pack_session(pack, clock=ActiveClock(60, now=clock))
    for _ in range(n):
        clock.t += 7
        session.record(choice)
    session.close()
    pstore.close()


@pytest.mark.parametrize("slots", [10, 1, 0])
def test_packs_copied_by_sql_store_what_their_events_files_store(tmp_path, slots):
    """Packs merged through attached files (as many as the connection's slots allow, the rest from
    Python) leave the same events, winners and annotations as their events files merged from Python;
    nothing stays attached."""
    store, made = small_round(tmp_path, ["ann", "ben", "cho"], 2, repeats=1, identical=1)
    for n, pack in enumerate(made.packs.values()):
        label_all(pack, seeded_random(n))
    twin_path = twin_of(store, tmp_path / "twin.sqlite")
    jsonl = []
    for name, pack in made.packs.items():
        jsonl.append(tmp_path / f"{name}.jsonl")
        write_events(pack, jsonl[-1])
    store.conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, slots)
    copies = _copies(store)
    assert merge_files(store, list(made.packs.values())).n_failed == 0
    assert len(copies) == min(slots, 3)
    assert {r[1] for r in store.conn.execute("PRAGMA database_list")} <= {"main", "temp"}
    for pack in made.packs.values():  # nothing holds a pack past the merge: a labeller can write at once
        probe = sqlite3.connect(pack, timeout=0, isolation_level=None)
        probe.execute("BEGIN EXCLUSIVE")
        probe.execute("ROLLBACK")
        probe.close()
    twin = Store(twin_path)
    twin_copies = _copies(twin)
    assert merge_files(twin, jsonl).n_failed == 0 and twin_copies == []
    for sql in (_EVENTS, _ANNOTATIONS, "SELECT * FROM crowd_labels ORDER BY 1, 2, 3", "SELECT * FROM winrate_sums ORDER BY 1, 2, 3"):
        mine = store.conn.execute(sql).fetchall()
        assert mine == twin.conn.execute(sql).fetchall() and mine, sql
    assert merge_files(store, list(made.packs.values())).n_failed == 0  # the aliases are free again
    assert [f.n_new for f in merge_files(store, list(made.packs.values())).files] == [0, 0, 0]
    twin.close()
    store.close()


@pytest.mark.parametrize("change", ["labelled on", "replaced", "removed"])
def test_a_pack_that_changes_after_it_was_read_merges_what_was_read(tmp_path, monkeypatch, change):
    """Regression guard for the SQL copy: a label added to the pack (or the file replaced) between the
    merge's read and the copy is not stored half-merged (a file gone is merged from the rows read);
    the next merge brings the added label."""
    store, made = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    ann, ben = made.packs["ann"], made.packs["ben"]
    _label(ann, 5)
    label_all(ben, seeded_random(1))
    read = merge_mod._prepare

    def read_then_change(path):  # type: ignore[no-untyped-def]
        prep = read(path)
        if change == "replaced":
            shutil.copy(ben, ann)
        elif change == "removed":
            ann.unlink()
        else:
            _label(ann, 1, "right")
        return prep

    monkeypatch.setattr(merge_mod, "_prepare", read_then_change)
    first = merge_files(store, [ann]).files[0]
    monkeypatch.undo()
    pack_uuid = "SELECT DISTINCT pack_uuid FROM crowd_events"
    labels = "SELECT raw_choice, count(*) FROM annotations WHERE source = 'label' AND retracted_at IS NULL GROUP BY 1"
    assert first.ok and first.n_changed == 5
    assert store.conn.execute("SELECT count(*) FROM crowd_events").fetchone()[0] == first.n_events == 7  # start, 5 labels, end
    assert len(store.conn.execute(pack_uuid).fetchall()) == 1
    assert store.conn.execute(labels).fetchall() == [("left", 5)]
    if change == "labelled on":
        again = merge_files(store, [ann]).files[0]
        assert again.n_new == 3 and again.n_changed == 1  # session start, the label, session end
        assert store.conn.execute(labels).fetchall() == [("left", 5), ("right", 1)]
    store.close()
