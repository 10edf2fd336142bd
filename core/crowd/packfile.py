"""Writing pack files: record a pack in the coordinator's database, then build its SQLite file.

The texts of ordinary items are copied by SQL from the coordinator's file (attached read-only in
spirit: only SELECTs); gold and check pairs come through Python. Several packs are built at once
on their own connections (see :func:`write_packs`); each file appears only when complete.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.round import PlanItem, item_key
from tiebreak.core.store import Store, StoreError, utcnow
from tiebreak.core.store.migrations import SEED_STATEMENTS

__all__ = ["PACK_FORMAT", "PackJob", "issue_pack", "pairs_of", "record_pack", "write_packs"]

PACK_FORMAT = "1"
_NEW_UUID = "lower(hex(randomblob(16)))"
_NOW = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"


def _state_trigger(table: str, kind: str) -> str:
    """Retraction / redo of a label, skip or flag as an event referring to the original one."""
    return f"""
        CREATE TRIGGER crowd_pack_{table}_state AFTER UPDATE OF retracted_at ON {table}
            WHEN (OLD.retracted_at IS NULL) != (NEW.retracted_at IS NULL)
        BEGIN
            INSERT INTO crowd_pack_events (uuid, kind, item_key, local_ref, refers_to, at)
            VALUES ({_NEW_UUID}, CASE WHEN NEW.retracted_at IS NULL THEN 'redo' ELSE 'retraction' END,
                    (SELECT item_key FROM crowd_pack_items WHERE comparison_id = NEW.comparison_id), NEW.id,
                    (SELECT uuid FROM crowd_pack_events WHERE kind = '{kind}' AND local_ref = NEW.id), {_NOW});
        END"""


_TRIGGERS = [
    f"""CREATE TRIGGER crowd_pack_label AFTER INSERT ON annotations BEGIN
        INSERT INTO crowd_pack_events (uuid, kind, item_key, choice, swapped, shown_at, submitted_at,
            seconds, note, local_ref, at)
        VALUES ({_NEW_UUID}, 'label', (SELECT item_key FROM crowd_pack_items WHERE comparison_id = NEW.comparison_id),
            NEW.raw_choice, NEW.swapped, NEW.shown_at, NEW.submitted_at, NEW.seconds, NEW.rationale, NEW.id,
            NEW.created_at);
    END""",
    f"""CREATE TRIGGER crowd_pack_skip AFTER INSERT ON skips BEGIN
        INSERT INTO crowd_pack_events (uuid, kind, item_key, swapped, shown_at, submitted_at, seconds, local_ref, at)
        VALUES ({_NEW_UUID}, 'skip', (SELECT item_key FROM crowd_pack_items WHERE comparison_id = NEW.comparison_id),
            NEW.swapped, NEW.shown_at, NEW.submitted_at, NEW.seconds, NEW.id, NEW.created_at);
    END""",
    f"""CREATE TRIGGER crowd_pack_flag AFTER INSERT ON flags BEGIN
        INSERT INTO crowd_pack_events (uuid, kind, item_key, note, local_ref, at)
        VALUES ({_NEW_UUID}, 'flag', (SELECT item_key FROM crowd_pack_items WHERE comparison_id = NEW.comparison_id),
            NEW.note, NEW.id, NEW.created_at);
    END""",
    f"""CREATE TRIGGER crowd_pack_session_start AFTER INSERT ON sessions BEGIN
        INSERT INTO crowd_pack_events (uuid, kind, local_ref, at) VALUES ({_NEW_UUID}, 'session_start', NEW.id, NEW.started_at);
    END""",
    f"""CREATE TRIGGER crowd_pack_session_end AFTER UPDATE OF ended_at ON sessions WHEN NEW.ended_at IS NOT NULL BEGIN
        INSERT INTO crowd_pack_events (uuid, kind, local_ref, at) VALUES ({_NEW_UUID}, 'session_end', NEW.id, NEW.ended_at);
    END""",
    _state_trigger("annotations", "label"),
    _state_trigger("skips", "skip"),
    _state_trigger("flags", "flag"),
]

_PAIRS_SQL = """
    SELECT c.id, i.id, i.dataset, ti.id, ti.sha1, ti.body, o1.id, o1.generator, t1.id, t1.sha1, t1.body,
           o2.id, o2.generator, t2.id, t2.sha1, t2.body
    FROM comparisons c JOIN instructions i ON i.id = c.instruction_id JOIN texts ti ON ti.id = i.text_id
    JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
    JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
    WHERE c.id IN ({marks})
"""


def pairs_of(store: Store, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """Texts and ids of the given comparisons as the pack writer needs them (one read)."""
    return _pairs(store, ids)


def _pairs(store: Store, ids: Sequence[int] | set[int]) -> dict[int, tuple[Any, ...]]:
    out: dict[int, tuple[Any, ...]] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        for row in store.conn.execute(_PAIRS_SQL.format(marks=", ".join("?" * len(chunk))), chunk):
            out[row[0]] = row
    return out


def _check_key(p: PlanItem, row: tuple[Any, ...]) -> str:
    """Content key of a check item as shown in the pack (mirrored repeat, identical outputs)."""
    if p.kind == "repeat":
        return item_key(row[5], row[15], row[10])
    if p.kind == "identical":
        return item_key(row[5], row[10], row[10])
    return p.key


_CHECKS = ("repeat", "identical")


def issue_pack(
    tx: Any, round_id: int, worker: str, plan: list[PlanItem], ids: dict[str, int], path: Path,
) -> Path:  # fmt: skip
    """Record the pack and its assignments (inside ``tx``) and write the pack file to ``path``."""
    write_packs(tx.store, [record_pack(tx, round_id, worker, plan, ids, path)])
    return path


@dataclass(frozen=True)
class PackJob:
    """A pack recorded in the coordinator's database, waiting to be written: see :func:`write_packs`."""

    path: Path
    identity: dict[str, str]
    keyed: list[tuple[PlanItem, str]]
    pairs: dict[int, tuple[Any, ...]]  # texts of its gold and check comparisons, read inside the transaction


def record_pack(tx: Any, round_id: int, worker: str, plan: list[PlanItem], ids: dict[str, int], path: Path) -> PackJob:
    """Record a pack, its check items and its assignments inside ``tx``; the file is written later.

    ``ids`` (item key -> crowd_items id) gains the pack's new check items.
    """
    store: Store = tx.store
    rnd = store.conn.execute("SELECT name, group_name, guidelines FROM crowd_rounds WHERE id = ?", (round_id,)).fetchone()
    annotator_id = tx.annotator_id(worker)
    pairs = _pairs(store, [p.comparison_id for p in plan if p.kind != "item"])  # gold and checks: few
    keyed = [(p, _check_key(p, pairs[p.comparison_id]) if p.kind in _CHECKS else p.key) for p in plan]
    if len({key for _, key in keyed}) < len(keyed):  # two identical-output checks of one instruction: keep one
        first = {key: n for n, (_, key) in reversed(list(enumerate(keyed)))}  # each key's first position
        keyed = [pk for n, pk in enumerate(keyed) if first[pk[1]] == n]
    for p, key in [(p, key) for p, key in keyed if p.kind in _CHECKS]:
        if key not in ids:
            cur = tx.execute(
                "INSERT INTO crowd_items (round_id, item_key, comparison_id, kind, mirrored, expected) VALUES (?, ?, ?, ?, ?, ?)",
                (round_id, key, p.comparison_id, p.kind, int(p.mirrored), 1.5 if p.kind == "identical" else None),
            )
            ids[key] = int(cur.lastrowid)
    pack_uuid = str(uuid.uuid4())
    cur = tx.execute(
        "INSERT INTO crowd_packs (uuid, round_id, annotator_id, path, n_items, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (pack_uuid, round_id, annotator_id, str(path), len(keyed), utcnow()),
    )
    pack_id = int(cur.lastrowid)
    tx.executemany(  # in key order: the table is a b-tree on (item, annotator)
        "INSERT INTO crowd_assignments (item_id, annotator_id, pack_id, swapped, position) VALUES (?, ?, ?, ?, ?)",
        sorted([(ids[key], annotator_id, pack_id, 1 if p.swapped else 0, n) for n, (p, key) in enumerate(keyed)]),
    )
    identity = {"round": rnd[0], "annotator": worker, "group": rnd[1], "pack_uuid": pack_uuid,
                "guidelines": rnd[2] or "", "created_at": utcnow(), "format": PACK_FORMAT}  # fmt: skip
    return PackJob(path, identity, keyed, pairs)


class _NeedsConnection(Exception):
    """A pack needs rows only the coordinator's own connection can read (not the committed file)."""


def write_packs(store: Store, jobs: Iterable[PackJob]) -> None:
    """Write the pack files of ``jobs``, several at once when the coordinator's database is a file.

    Each pack is built on its own connection (SQLite works outside the GIL, so two cores build two
    packs) from the attached coordinator file, starting as soon as ``jobs`` yields it (a generator
    may record the next pack meanwhile, in the calling thread). A pack that needs rows of the
    running transaction beyond its prefetched gold and check texts is built again here through
    ``store``'s connection. All files are finished (or failed and removed) before this returns;
    the first error is raised.
    """
    _template(store)  # made once, before any thread needs it
    threads = min(os.cpu_count() or 1, 4) if store.path is not None else 1
    if threads <= 1:
        for job in jobs:
            _write_file(job, store.path, store)
        return
    started: list[tuple[PackJob, Future[None]]] = []
    with ThreadPoolExecutor(threads, thread_name_prefix="tiebreak-pack") as pool:
        for job in jobs:
            started.append((job, pool.submit(_write_file, job, store.path, None)))
    for job, fut in started:
        try:
            fut.result()
        except _NeedsConnection:
            _write_file(job, store.path, store)


def _write_file(job: PackJob, source_path: Path | None, source: Store | None) -> None:
    """Build the pack database next to ``job.path`` and move it into place when complete.

    ``source`` (the coordinator's store, or None from a worker thread) reads what the committed
    file at ``source_path`` lacks; without it a missing row raises :class:`_NeedsConnection`.
    """
    path, keyed = job.path, job.keyed
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    shutil.copyfile(_template(), tmp)  # an empty pack schema, migrated once per process
    pack = Store(tmp)
    try:
        # The file is renamed into place only when complete (a crash leaves a .part, never a
        # pack): no rollback journal, no fsync, no per-row foreign-key checks while building it.
        for pragma in ("main.journal_mode = OFF", "main.synchronous = OFF", "foreign_keys = OFF"):
            pack.conn.execute(f"PRAGMA {pragma}")
        with pack.transaction() as tx:
            length_trigger = _drop_trigger(tx, "generator_length_sums_insert")
            indexes = _drop_indexes(tx, _COPIED_TABLES)  # built once after the copy: cheaper than row by row
            _copy_pairs(tx, sorted({p.comparison_id for p, _ in keyed}), source_path, job.pairs, source)
            for sql in indexes:
                tx.execute(sql)
            tx.execute(_LENGTH_SUMS_SQL)  # what the dropped trigger would have summed, in one statement
            tx.execute(length_trigger)
            checks = _check_comparisons(tx, keyed)
            tx.executemany("INSERT INTO comparisons (id, instruction_id, output_1_id, output_2_id) VALUES (?, ?, ?, ?)", checks)
            new_ids = iter(r[0] for r in checks)
            tx.executemany("INSERT INTO crowd_pack_items (comparison_id, item_key, position, swapped) VALUES (?, ?, ?, ?)",
                           sorted((next(new_ids) if p.kind in _CHECKS else p.comparison_id, key, n, int(p.swapped))
                                  for n, (p, key) in enumerate(keyed)))  # fmt: skip
            _finish(tx, job.identity)
        pack.conn.execute("PRAGMA foreign_keys = ON")
        pack.conn.execute("PRAGMA main.journal_mode = DELETE")  # one self-contained file to send
    except BaseException:
        pack.close()
        tmp.unlink(missing_ok=True)
        raise
    pack.close()
    tmp.replace(path)


def _finish(tx: Any, identity: dict[str, str]) -> None:
    """The pack's identity, its own database id, its annotator and the event triggers."""
    tx.executemany("INSERT INTO crowd_pack (key, value) VALUES (?, ?)", list(identity.items()))
    tx.execute("UPDATE database_info SET value = ? WHERE key = 'id'", (uuid.uuid4().hex,))  # its own identity
    tx.annotator_id(identity["annotator"], "human", group=identity["group"], member=identity["annotator"])
    for sql in _TRIGGERS:
        tx.execute(sql)


# Rows of the pack's comparisons (ids in temp.pack_src), read from the database attached as src.
# Model names are not in a pack: nothing (not even a gold item's names) tells items apart.
_COPY_SQL = (
    """INSERT INTO texts (id, sha1, body, length) SELECT id, sha1, body, length FROM src.texts WHERE id IN (
        SELECT i.text_id FROM src.comparisons c JOIN src.instructions i ON i.id = c.instruction_id
        WHERE c.id IN (SELECT id FROM temp.pack_src)
        UNION SELECT o.text_id FROM src.comparisons c JOIN src.outputs o ON o.id IN (c.output_1_id, c.output_2_id)
        WHERE c.id IN (SELECT id FROM temp.pack_src)) ORDER BY id""",
    """INSERT INTO instructions (id, text_id, dataset) SELECT id, text_id, NULL FROM src.instructions WHERE id IN (
        SELECT instruction_id FROM src.comparisons WHERE id IN (SELECT id FROM temp.pack_src)) ORDER BY id""",
    """INSERT INTO outputs (id, instruction_id, generator, text_id)
        SELECT id, instruction_id, 'model ' || id, text_id FROM src.outputs WHERE id IN (
        SELECT output_1_id FROM src.comparisons WHERE id IN (SELECT id FROM temp.pack_src)
        UNION SELECT output_2_id FROM src.comparisons WHERE id IN (SELECT id FROM temp.pack_src)) ORDER BY id""",
    """INSERT INTO comparisons (id, instruction_id, output_1_id, output_2_id)
        SELECT id, instruction_id, output_1_id, output_2_id FROM src.comparisons
        WHERE id IN (SELECT id FROM temp.pack_src) ORDER BY id""",
)


def _copy_pairs(
    tx: Any, cids: list[int], source_path: Path | None, pairs: dict[int, tuple[Any, ...]], source: Store | None,
) -> None:  # fmt: skip
    """Copy the comparisons ``cids`` with their instructions, outputs and texts into the pack.

    The coordinator's file is attached and the rows are copied by SQL (ids kept, rows in id
    order, appended to each b-tree). What that committed file does not hold yet (gold pairs
    added by the running transaction, or an in-memory database) comes from ``pairs`` or is read
    through ``source``'s own connection, and is written from Python.
    """
    if source_path is not None:
        tx.execute("CREATE TEMP TABLE pack_src (id INTEGER PRIMARY KEY)")
        tx.execute("INSERT INTO temp.pack_src (id) SELECT value FROM json_each(?)", (json.dumps(cids),))
        tx.execute("ATTACH DATABASE ? AS src", (str(source_path),))
        for sql in _COPY_SQL:
            tx.execute(sql)
    have = {r[0] for r in tx.execute("SELECT id FROM comparisons")}
    missing = [c for c in cids if c not in have]
    rows = {c: pairs[c] for c in missing if c in pairs}
    rest = [c for c in missing if c not in pairs]
    if rest and source is None:
        raise _NeedsConnection(f"{len(rest)} comparison(s) only the coordinator's connection can read")
    rows.update(_pairs(source, rest) if rest and source is not None else {})
    if not rows:
        return
    texts, instructions, outputs = {}, {}, {}
    for r in rows.values():
        for tid, sha, body in ((r[3], r[4], r[5]), (r[8], r[9], r[10]), (r[13], r[14], r[15])):
            texts[tid] = (tid, sha, body, len(body))
        instructions[r[1]] = (r[1], r[3], None)
        outputs[r[6]] = (r[6], r[1], f"model {r[6]}", r[8])
        outputs[r[11]] = (r[11], r[1], f"model {r[11]}", r[13])
    tx.executemany("INSERT OR IGNORE INTO texts (id, sha1, body, length) VALUES (?, ?, ?, ?)", sorted(texts.values()))
    tx.executemany("INSERT OR IGNORE INTO instructions (id, text_id, dataset) VALUES (?, ?, ?)", sorted(instructions.values()))
    tx.executemany("INSERT OR IGNORE INTO outputs (id, instruction_id, generator, text_id) VALUES (?, ?, ?, ?)",
                   sorted(outputs.values()))  # fmt: skip
    tx.executemany("INSERT INTO comparisons (id, instruction_id, output_1_id, output_2_id) VALUES (?, ?, ?, ?)",
                   sorted((r[0], r[1], r[6], r[11]) for r in rows.values()))  # fmt: skip


def _check_comparisons(tx: Any, keyed: list[tuple[PlanItem, str]]) -> list[tuple[int, int, int, int]]:
    """New comparisons of the check items: a repeat mirrors its source, an identical check shows output 1 twice."""
    checks = [p for p, _ in keyed if p.kind in _CHECKS]
    if not checks:
        return []
    src = {r[0]: r[1:] for r in tx.execute(
        f"SELECT id, instruction_id, output_1_id, output_2_id FROM comparisons WHERE id IN ({', '.join('?' * len(checks))})",
        [p.comparison_id for p in checks],
    )}  # fmt: skip
    next_id = tx.execute("SELECT coalesce(max(id), 0) + 1 FROM comparisons").fetchone()[0]
    out = []
    for n, p in enumerate(checks):
        ins, o1, o2 = src[p.comparison_id]
        out.append((next_id + n, ins, *((o2, o1) if p.kind == "repeat" else (o1, o1))))
    return out


_LENGTH_SUMS_SQL = """
    INSERT INTO generator_length_sums (generator, n_outputs, total_chars)
    SELECT o.generator, count(*), sum(t.length) FROM outputs o JOIN texts t ON t.id = o.text_id GROUP BY o.generator
"""


def _drop_trigger(tx: Any, name: str) -> str:
    """Drop a trigger of the (empty) pack schema for a bulk insert; its CREATE statement to restore it."""
    row = tx.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).fetchone()
    if row is None:
        raise StoreError(f"pack template: trigger {name} is missing")
    tx.execute(f"DROP TRIGGER {name}")
    return str(row[0])


_COPIED_TABLES = ("texts", "instructions", "outputs", "comparisons")


def _drop_indexes(tx: Any, tables: tuple[str, ...]) -> list[str]:
    """Drop the secondary indexes of ``tables`` in the (empty) pack; their CREATE statements, in order.

    (The UNIQUE constraints' own indexes stay: they cannot be dropped.)
    """
    marks = ", ".join("?" * len(tables))
    rows = tx.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                      f"AND tbl_name IN ({marks}) ORDER BY rowid", tables).fetchall()  # fmt: skip
    for name, _ in rows:
        tx.execute(f'DROP INDEX "{name}"')
    return [str(sql) for _, sql in rows]


_TEMPLATE: list[Path] = []


def _template(source: Store | None = None) -> Path:
    """An empty database at head (copying it is much cheaper than migrating every pack), made once per process.

    Made from ``source``'s schema when given (a database at head: its tables, indexes, triggers and
    views, its migration records and stamps), which spares importing sqlite-utils (and with it
    pandas, about a second) in a process that has no other migration to run; else by migrating.
    """
    if not _TEMPLATE or not _TEMPLATE[0].exists():
        folder = Path(tempfile.mkdtemp(prefix="tiebreak-pack-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "template.tiebreak"
        if source is not None:
            _copy_schema(source, path)
        else:
            store = Store(path, create=True)
            store.conn.execute("PRAGMA journal_mode = DELETE")
            store.close()
        _TEMPLATE[:] = [path]
    return _TEMPLATE[0]


def _copy_schema(source: Store, path: Path) -> None:
    """Write an empty database at ``path`` with ``source``'s schema, as the migrations would leave it."""
    conn = source.conn
    ddl = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite^_%' ESCAPE '^' ORDER BY rowid"
    )]  # fmt: skip
    cur = conn.execute("SELECT * FROM _sqlite_migrations")
    cols, done = [d[0] for d in cur.description], cur.fetchall()
    stamps = [(p, int(conn.execute(f"PRAGMA {p}").fetchone()[0])) for p in ("application_id", "user_version")]
    new = sqlite3.connect(path, isolation_level=None)
    try:
        new.execute("BEGIN")
        for sql in ddl:
            new.execute(sql)
        new.executemany(f"INSERT INTO _sqlite_migrations ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", done)
        new.execute("INSERT INTO database_info (key, value) VALUES ('id', ?)", (uuid.uuid4().hex,))  # as its migration does
        for seed in SEED_STATEMENTS:
            new.execute(seed)
        for pragma, value in stamps:
            new.execute(f"PRAGMA {pragma} = {value}")
        new.execute("COMMIT")
    finally:
        new.close()
