"""The Store: one SQLite connection, recognised and migrated to head, read-only outside a unit of work."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiebreak.core.domain import Pair
from tiebreak.core.store.errors import StoreError, UnknownName, translate
from tiebreak.core.store.guard import GuardedConnection
from tiebreak.core.store.identity import (
    APPLICATION_ID,
    QUICK_CHECK_MAX_BYTES,
    FileState,
    examine,
    quick_check,
    require_known,
    require_sound,
)
from tiebreak.core.store.migrations import migrations
from tiebreak.core.store.transaction import Transaction
from tiebreak.core.store.util import text_sha1, utcnow

if TYPE_CHECKING:  # pandas is imported lazily: the app's start-up does not need it
    import pandas as pd

__all__ = ["Store", "StoreError", "Transaction", "UnknownName", "schema_generation", "text_sha1", "utcnow"]

#: How long a statement waits for another connection's write lock (batch use: CLI, imports).
BUSY_TIMEOUT_MS = 5000
#: The wait of an interactive store (a key press must return at once; the caller retries).
INTERACTIVE_BUSY_TIMEOUT_MS = 25


def schema_generation() -> int:
    """The schema generation this Tiebreak writes (``PRAGMA user_version``): its number of migrations."""
    return len(migrations.steps)


def known_migrations() -> set[str]:
    """Names of the migrations this Tiebreak knows."""
    return {name for name, _ in migrations.steps}


#: Database files this process has open (resolved path -> number of Stores). POSIX drops every
#: lock a process holds on a file when it closes *any* descriptor of that file, so the file must
#: not be opened outside SQLite (as :func:`identity.examine` does) while a Store has it open:
#: another program's last close would then delete the ``-wal`` under our feet (a corrupt database).
_OPEN: dict[str, int] = {}
_OPEN_LOCK = threading.Lock()


def _register(path: Path, delta: int) -> int:
    """Count one more (or one fewer) open Store on ``path``; the count before the change."""
    key = str(path.resolve())
    with _OPEN_LOCK:
        before = _OPEN.get(key, 0)
        if before + delta > 0:
            _OPEN[key] = before + delta
        else:
            _OPEN.pop(key, None)
        return before


def _remove_if_empty(path: Path) -> None:
    """Remove a database this process created and failed to set up, if nothing was written to it."""
    files = [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-journal")]
    if all(not f.exists() or f.stat().st_size == 0 for f in files):
        for f in [*files, Path(f"{path}-shm")]:
            f.unlink(missing_ok=True)


def _connect(target: str) -> GuardedConnection:
    """An autocommit connection whose writes are refused outside a unit of work."""
    conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None, factory=GuardedConnection)
    return conn


class Store:
    """A Tiebreak database: one SQLite file (or memory), recognised, migrated to head.

    Opening never changes a file that is not Tiebreak's (see :func:`identity.examine`): the
    checks run on a read-only connection before the first write. Outside
    ``with store.transaction() as tx:`` the connection refuses writes (``guard.GuardedConnection``),
    so a write outside a unit of work fails instead of committing on its own. Use one Store per
    thread; SQLite's WAL mode lets a reader and a writer work at once.

    Parameters
    ----------
    path : str or Path, optional
        The SQLite file; None (or ``memory=True`` or ``":memory:"``) gives an in-memory database.
    create : bool
        Create the file when it does not exist (its folder must exist) or adopt an empty one.
        Without it a missing file raises :class:`NoDatabase`.
    check : bool
        Run ``PRAGMA quick_check`` before anything else when the file is small enough to be cheap.
    busy_timeout_ms : int
        How long a unit of work waits for another program's write lock before it raises
        :class:`DatabaseBusy` with nothing written (``INTERACTIVE_BUSY_TIMEOUT_MS`` for a GUI
        thread that retries; the default suits batch work).
    checkpoint : bool
        Copy the write-ahead log into the database after commits (SQLite's auto-checkpoint).
        False for a GUI thread: its small commit would otherwise copy the whole log an import
        just left (hundreds of ms); the batch connections checkpoint as usual.

    Raises
    ------
    StoreError
        A subclass naming the file: NoDatabase, NotTiebreakDatabase, NewerDatabase,
        ReadOnlyDatabase, CorruptDatabase, DiskFull, DatabaseBusy.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        memory: bool = False,
        create: bool = False,
        check: bool = True,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        checkpoint: bool = True,
    ) -> None:
        if isinstance(busy_timeout_ms, bool) or not isinstance(busy_timeout_ms, int) or busy_timeout_ms < 0:
            raise StoreError(f"busy_timeout_ms must be a whole number of milliseconds >= 0, got {busy_timeout_ms!r}")
        self.busy_timeout_ms, self._checkpoint = busy_timeout_ms, checkpoint
        self._text_ids: dict[str, int] = {}
        self._unregister: Callable[[], object] = lambda: None
        self._tx: Transaction | None = None
        self._lock = threading.RLock()
        if memory or path is None or str(path) == ":memory:":
            self.path: Path | None = None
            state = FileState("missing")
            conn = _connect(":memory:")
        else:
            self.path = Path(path)
            opened_here = _register(self.path, +1) and self.path.exists()  # stat only: no descriptor
            self._unregister = weakref.finalize(self, _register, self.path, -1)  # on close, failure or GC
            try:
                state = (FileState("tiebreak", schema_generation(), stamped=True) if opened_here  # ours: no look
                         else examine(self.path, create=create, generation=schema_generation(), known=known_migrations()))  # fmt: skip
                conn = _connect(str(self.path))
            except sqlite3.Error as exc:
                self._unregister()
                raise translate(exc, self.path) or StoreError(f"cannot open the database {self.path}: {exc}") from exc
            except BaseException:
                self._unregister()
                raise
        self.conn: GuardedConnection = conn
        try:
            self._prepare(state, check=check)
        except BaseException as exc:
            conn.close()
            self._unregister()
            if state.kind == "missing" and self.path is not None:
                _remove_if_empty(self.path)
            translated = translate(exc, self.path)
            if translated is not None:
                raise translated from exc
            raise

    def _prepare(self, state: FileState, *, check: bool) -> None:
        """Connection settings, the cheap integrity check, WAL, migrations and the stamp."""
        conn = self.conn
        conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        conn.execute("PRAGMA foreign_keys = ON")
        if state.kind == "tiebreak":  # the header said ours: verify what the -wal may hold
            require_known(conn, self.path, generation=schema_generation(), known=known_migrations())
        self.checked = self.path is None or state.kind != "tiebreak"  # new databases are sound
        if not self.checked and check and self.path.stat().st_size <= QUICK_CHECK_MAX_BYTES:  # type: ignore[union-attr]
            require_sound(conn, self.path)
            self.checked = True
        if self.path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            if not self._checkpoint:  # another connection copies the log (Store.checkpoint)
                # (no journal_size_limit: cutting the file the log restarts in took 320 ms on the
                # GUI thread after an import had left a 250 MB log)
                conn.execute("PRAGMA wal_autocheckpoint = 0")
        generation = schema_generation()
        if not state.stamped or state.user_version != generation or migrations.pending(conn):
            conn.raw("BEGIN IMMEDIATE")
            conn.writable = True
            try:
                migrations.apply(conn)  # sqlite-utils is imported only when a migration is pending
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {generation}")
                conn.raw("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.raw("ROLLBACK")
                raise
            finally:
                conn.writable = False

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """The unit of work: ``with store.transaction() as tx:`` commits on exit, rolls back on error.

        Only ``tx`` has write methods; the connection is read-only outside the block. A nested
        call joins the outer transaction (one user action is one transaction, whatever helpers it
        calls); another thread waits for it to end. ``BEGIN IMMEDIATE`` takes the write lock up
        front, so a busy database fails here, before any work is done. A disk-full, read-only,
        corrupt or locked database raises the matching :class:`StoreError` after the rollback.
        """
        with self._lock:
            if self._tx is not None:
                yield self._tx
                return
            try:
                self.conn.raw("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise translate(exc, self.path) or exc from exc
            tx = self._tx = Transaction(self)
            self.conn.writable = True
            try:
                yield tx
                self.conn.raw("COMMIT")
            except BaseException as exc:
                if self.conn.in_transaction:
                    self.conn.raw("ROLLBACK")
                self.forget_cache()
                translated = translate(exc, self.path)
                if translated is not None:
                    raise translated from exc
                raise
            finally:
                self._tx = None
                self.conn.writable = False
                tx._close()

    @contextmanager
    def busy_timeout(self, ms: int) -> Iterator[Store]:
        """Wait up to ``ms`` for the write lock inside the block (e.g. a last save before closing)."""
        if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
            raise StoreError(f"busy timeout must be a whole number of milliseconds >= 0, got {ms!r}")
        with self._lock:
            self.conn.execute(f"PRAGMA busy_timeout = {ms}")
            try:
                yield self
            finally:
                self.conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """A read transaction: every read inside sees one state of the database (no writes).

        Inside a unit of work it simply joins it.
        """
        with self._lock:
            if self._tx is not None or self.conn.in_transaction:
                yield self
                return
            self.conn.raw("BEGIN DEFERRED")
            try:
                yield self
            finally:
                if self.conn.in_transaction:
                    self.conn.raw("ROLLBACK")

    @property
    def in_transaction(self) -> bool:
        """True inside ``with store.transaction()`` (or when SQLite holds an open transaction)."""
        return self._tx is not None or self.conn.in_transaction

    def check(self, *, full: bool = False) -> list[str]:
        """Problems found by SQLite's ``quick_check`` (``full``: ``integrity_check`` + foreign keys)."""
        return quick_check(self.conn, self.path, full=full)

    def require_sound(self, *, full: bool = False) -> None:
        """Raise :class:`CorruptDatabase` unless the database passes its check."""
        require_sound(self.conn, self.path, full=full)
        self.checked = True

    def ensure_checked(self) -> None:
        """Run the quick check once if opening skipped it (call before a bulk write such as an import)."""
        if not self.checked:
            self.require_sound()

    def close(self) -> None:
        """Close the connection."""
        self._unregister()  # runs once
        self.conn.close()

    def checkpoint(self) -> tuple[int, int]:
        """Copy the write-ahead log into the database without waiting for anyone (``PASSIVE``).

        Writers go on meanwhile; frames that a reader still needs stay in the log for the next
        checkpoint. Once all are copied the next write starts the log from its beginning again,
        so the file stops growing (it keeps its size: SQLite reuses it).

        Returns
        -------
        tuple of int
            Frames in the log, and how many of them are now in the database (both -1 in memory).
        """
        with self._lock:
            _busy, frames, copied = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames), int(copied)

    def forget_cache(self) -> None:
        """Drop in-memory id caches (after a rolled-back transaction)."""
        self._text_ids.clear()

    def is_new(self) -> bool:
        """True when the database holds no comparisons yet."""
        return self.conn.execute("SELECT NOT EXISTS (SELECT 1 FROM comparisons)").fetchone()[0] == 1

    def annotator_row(self, *, annotator_id: int | None = None, name: str | None = None) -> dict[str, Any] | None:
        """The annotator (id, name, kind, group_name, member, config) by id or name; None if absent."""
        column, value = ("id", annotator_id) if annotator_id is not None else ("name", name)
        cur = self.conn.execute(
            f"SELECT id, name, kind, group_name, member, config FROM annotators WHERE {column} = ?",
            (value,),
        )
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))

    # -- reads --------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (annotations excludes retracted ones)."""
        q = {
            "instructions": "SELECT count(*) FROM instructions",
            "outputs": "SELECT count(*) FROM outputs",
            "comparisons": "SELECT count(*) FROM comparisons",
            "annotators": "SELECT count(*) FROM annotators",
            "annotations": "SELECT count(*) FROM annotations WHERE retracted_at IS NULL",
        }
        return {k: int(self.conn.execute(sql).fetchone()[0]) for k, sql in q.items()}

    def pair(self, comparison_id: int) -> Pair:
        """The comparison with its texts, in canonical order."""
        row = self.conn.execute(_PAIR_SQL + " WHERE c.id = ?", (comparison_id,)).fetchone()
        if row is None:
            raise UnknownName(f"no comparison with id {comparison_id}")
        return Pair(*row)

    def annotations_frame(
        self,
        *,
        groups: list[str] | None = None,
        generators: list[str] | None = None,
        sources: list[str] | None = None,
        with_texts: bool = True,
        include_retracted: bool = False,
    ) -> pd.DataFrame:
        """Annotations joined with their comparison, in AlpacaEval's column names.

        Columns: annotation_id, comparison_id, instruction_id, instruction, dataset, output_1,
        output_2, generator_1, generator_2, annotator (group), annotator_name, annotator_kind,
        annotator_index (member, else seed), seed, preference, price_per_example,
        time_per_example, raw_completion, rationale, swapped, source, created_at, retracted_at.
        """
        where, args = ["1=1"], []
        if not include_retracted:
            where.append("a.retracted_at IS NULL")
        for col, values in (("an.group_name", groups), ("o2.generator", generators), ("a.source", sources)):
            if values:
                where.append(f"{col} IN ({', '.join('?' * len(values))})")
                args.extend(values)
        texts = (
            "ti.body AS instruction, t1.body AS output_1, t2.body AS output_2, "
            if with_texts
            else ""
        )
        sql = f"""
            SELECT a.id AS annotation_id, a.comparison_id, c.instruction_id, {texts}
                   i.dataset, o1.generator AS generator_1, o2.generator AS generator_2,
                   t1.length AS length_1, t2.length AS length_2,
                   an.group_name AS annotator, an.name AS annotator_name, an.kind AS annotator_kind,
                   COALESCE(an.member, CAST(a.seed AS TEXT)) AS annotator_index, a.seed,
                   a.preference, a.price AS price_per_example, a.seconds AS time_per_example,
                   a.raw_completion, a.rationale, a.swapped, a.source, a.created_at, a.retracted_at
            FROM annotations a
            JOIN comparisons c ON c.id = a.comparison_id
            JOIN instructions i ON i.id = c.instruction_id
            JOIN texts ti ON ti.id = i.text_id
            JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
            JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
            JOIN annotators an ON an.id = a.annotator_id
            WHERE {' AND '.join(where)}
            ORDER BY a.id
        """
        import pandas as pd

        return pd.read_sql_query(sql, self.conn, params=args)

    def groups(self) -> list[dict[str, Any]]:
        """Annotator groups with their kind and number of live annotations."""
        rows = self.conn.execute(  # counts per annotator first: a scan of the live-labels index
            """SELECT an.group_name, an.kind, coalesce(sum(live.n), 0) FROM annotators an
               LEFT JOIN (SELECT annotator_id, count(*) AS n FROM annotations WHERE retracted_at IS NULL
                          GROUP BY annotator_id) live ON live.annotator_id = an.id
               GROUP BY an.group_name, an.kind ORDER BY an.group_name"""
        ).fetchall()
        return [{"group": g, "kind": k, "annotations": int(n)} for g, k, n in rows]

    def generators(self) -> list[str]:
        """Names of all generators with stored outputs."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT generator FROM outputs ORDER BY 1")]


_PAIR_SQL = """
    SELECT c.id, ti.body, t1.body, t2.body, o1.generator, o2.generator, i.dataset
    FROM comparisons c
    JOIN instructions i ON i.id = c.instruction_id JOIN texts ti ON ti.id = i.text_id
    JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
    JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
"""
