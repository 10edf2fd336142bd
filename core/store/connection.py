"""The Store: one SQLite connection, migrated to head, with identities and annotation rows."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiebreak.core.domain import Pair
from tiebreak.core.errors import TiebreakError
from tiebreak.core.store.migrations import migrations

if TYPE_CHECKING:  # pandas is imported lazily: the app's start-up does not need it
    import pandas as pd

__all__ = ["Store", "StoreError", "Transaction", "UnknownName", "utcnow", "text_sha1"]

BUSY_TIMEOUT_MS = 5000


class StoreError(TiebreakError):
    """A database operation could not be carried out."""


class UnknownName(StoreError, KeyError):
    """A generator, annotator or group name that the database does not hold."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


def utcnow() -> str:
    """Current UTC time as ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def text_sha1(body: str) -> str:
    """Content identity of a text (instructions and outputs are stored once by this key)."""
    return hashlib.sha1(body.encode("utf-8", "surrogatepass")).hexdigest()


class Store:
    """A Tiebreak database: one SQLite file (or memory) with the schema migrated to head.

    Use one Store per thread; SQLite's WAL mode lets a reader and a writer work at once.
    """

    def __init__(self, path: str | Path | None = None, *, memory: bool = False) -> None:
        if memory or path is None or str(path) == ":memory:":
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self.path: Path | None = None
        else:
            self.path = Path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        self.conn = conn
        migrations.apply(conn)  # sqlite-utils is imported only when a migration is pending
        self._text_ids: dict[str, int] = {}
        self._tx: Transaction | None = None

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """The unit of work: ``with store.transaction() as tx:`` commits on exit, rolls back on error.

        The connection is in autocommit mode (``isolation_level=None``), so nothing stays open
        between units of work. A nested call joins the outer transaction (one user action is one
        transaction, whatever helpers it calls). ``BEGIN IMMEDIATE`` takes the write lock up front,
        so a busy database fails here, before any work is done.
        """
        if self._tx is not None:
            yield self._tx
            return
        self.conn.execute("BEGIN IMMEDIATE")
        tx = self._tx = Transaction(self)
        try:
            yield tx
        except BaseException:
            self._tx = None
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.forget_cache()
            raise
        self._tx = None
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.forget_cache()
            raise

    @contextmanager
    def atomic(self) -> Iterator[Store]:
        """Deprecated spelling of :meth:`transaction` that yields the store (being removed)."""
        with self.transaction():
            yield self

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def is_new(self) -> bool:
        """True when the database holds no comparisons yet."""
        return self.conn.execute("SELECT NOT EXISTS (SELECT 1 FROM comparisons)").fetchone()[0] == 1

    # -- identities ---------------------------------------------------------------------
    def intern_text(self, body: str) -> int:
        """Id of ``body`` in the texts table, inserting it once."""
        key = text_sha1(body)
        cached = self._text_ids.get(key)
        if cached is not None:
            return cached
        row = self.conn.execute("SELECT id FROM texts WHERE sha1 = ?", (key,)).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO texts (sha1, body, length) VALUES (?, ?, ?)", (key, body, len(body))
            )
            text_id = int(cur.lastrowid)  # type: ignore[arg-type]
        else:
            text_id = int(row[0])
        self._text_ids[key] = text_id
        return text_id

    def forget_cache(self) -> None:
        """Drop in-memory id caches (call after a rolled-back transaction)."""
        self._text_ids.clear()

    def instruction_id(self, text: str, dataset: str | None = None) -> int:
        """Id of the instruction with this text, inserting it once (dataset kept if first seen)."""
        text_id = self.intern_text(text)
        row = self.conn.execute(
            "SELECT id, dataset FROM instructions WHERE text_id = ?", (text_id,)
        ).fetchone()
        if row is not None:
            if row[1] is None and dataset is not None:
                self.conn.execute("UPDATE instructions SET dataset = ? WHERE id = ?", (dataset, row[0]))
            return int(row[0])
        cur = self.conn.execute(
            "INSERT INTO instructions (text_id, dataset) VALUES (?, ?)", (text_id, dataset)
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def output_id(self, instruction_id: int, generator: str, text: str) -> int:
        """Id of this generator's output for this instruction, inserting it once."""
        text_id = self.intern_text(text)
        row = self.conn.execute(
            "SELECT id FROM outputs WHERE instruction_id = ? AND generator = ? AND text_id = ?",
            (instruction_id, generator, text_id),
        ).fetchone()
        if row is not None:
            return int(row[0])
        cur = self.conn.execute(
            "INSERT INTO outputs (instruction_id, generator, text_id) VALUES (?, ?, ?)",
            (instruction_id, generator, text_id),
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def comparison_id(self, instruction_id: int, output_1_id: int, output_2_id: int) -> int:
        """Id of the comparison (output_1 = reference, output_2 = candidate), inserting it once."""
        row = self.conn.execute(
            "SELECT id FROM comparisons WHERE output_1_id = ? AND output_2_id = ?",
            (output_1_id, output_2_id),
        ).fetchone()
        if row is not None:
            return int(row[0])
        cur = self.conn.execute(
            "INSERT INTO comparisons (instruction_id, output_1_id, output_2_id) VALUES (?, ?, ?)",
            (instruction_id, output_1_id, output_2_id),
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def annotator_id(
        self,
        name: str,
        kind: str = "human",
        *,
        group: str | None = None,
        member: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> int:
        """Id of the annotator called ``name``, creating it (kind 'human' or 'judge') once."""
        row = self.conn.execute("SELECT id FROM annotators WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        config_text = json.dumps(config, sort_keys=True) if config is not None else None
        config_hash = hashlib.sha256(config_text.encode()).hexdigest()[:16] if config_text else None
        cur = self.conn.execute(
            "INSERT INTO annotators (name, kind, group_name, member, config, config_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, kind, group or name, member, config_text, config_hash, utcnow()),
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def annotator_row(self, *, annotator_id: int | None = None, name: str | None = None) -> dict[str, Any] | None:
        """The annotator (id, name, kind, group_name, member, config) by id or name; None if absent."""
        column, value = ("id", annotator_id) if annotator_id is not None else ("name", name)
        cur = self.conn.execute(
            f"SELECT id, name, kind, group_name, member, config FROM annotators WHERE {column} = ?",
            (value,),
        )
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))

    def start_session(self, annotator_id: int | None, kind: str, meta: dict[str, Any] | None = None) -> int:
        """Open a labelling / review / judge session and return its id."""
        cur = self.conn.execute(
            "INSERT INTO sessions (annotator_id, kind, started_at, meta) VALUES (?, ?, ?, ?)",
            (annotator_id, kind, utcnow(), json.dumps(meta) if meta else None),
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    # -- annotations --------------------------------------------------------------------
    ANNOTATION_FIELDS = (
        "comparison_id", "annotator_id", "preference", "raw_choice", "raw_preference", "swapped",
        "rationale", "raw_completion", "price", "seconds", "seed", "run_id", "session_id",
        "import_id", "source", "judge_visible", "extra", "shown_at", "submitted_at",
    )  # fmt: skip

    def add_annotation(self, **fields: Any) -> int:
        """Insert one annotation row (see ANNOTATION_FIELDS) and return its id."""
        unknown = set(fields) - set(self.ANNOTATION_FIELDS)
        if unknown:
            raise StoreError(f"unknown annotation field(s): {', '.join(sorted(unknown))}")
        fields.setdefault("source", "label")
        if isinstance(fields.get("extra"), dict):
            fields["extra"] = json.dumps(fields["extra"], sort_keys=True)
        cols = list(fields) + ["created_at"]
        values = [fields[c] for c in fields] + [utcnow()]
        cur = self.conn.execute(
            f"INSERT INTO annotations ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            values,
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def retract_annotation(self, annotation_id: int, when: str | None = None) -> None:
        """Mark an annotation retracted (never deleted)."""
        self.conn.execute(
            "UPDATE annotations SET retracted_at = ? WHERE id = ? AND retracted_at IS NULL",
            (when or utcnow(), annotation_id),
        )

    def restore_annotation(self, annotation_id: int) -> None:
        """Undo a retraction (redo of a label)."""
        self.conn.execute("UPDATE annotations SET retracted_at = NULL WHERE id = ?", (annotation_id,))

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
        rows = self.conn.execute(
            """SELECT an.group_name, an.kind, count(a.id) FROM annotators an
               LEFT JOIN annotations a ON a.annotator_id = an.id AND a.retracted_at IS NULL
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


class Transaction:
    """The write half of a :class:`Store`, valid inside one ``with store.transaction() as tx:`` block.

    Feature SQL modules write only through a ``tx`` (``tx.execute`` and the identity helpers);
    reads go through the store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        """Run one write (or read) statement inside this transaction."""
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        """Run one statement for each parameter row inside this transaction."""
        return self.conn.executemany(sql, rows)

    def intern_text(self, body: str) -> int:
        """Id of ``body`` in the texts table, inserting it once."""
        return self.store.intern_text(body)

    def instruction_id(self, text: str, dataset: str | None = None) -> int:
        """Id of the instruction with this text, inserting it once."""
        return self.store.instruction_id(text, dataset)

    def output_id(self, instruction_id: int, generator: str, text: str) -> int:
        """Id of this generator's output for this instruction, inserting it once."""
        return self.store.output_id(instruction_id, generator, text)

    def comparison_id(self, instruction_id: int, output_1_id: int, output_2_id: int) -> int:
        """Id of the comparison (output_1 = reference), inserting it once."""
        return self.store.comparison_id(instruction_id, output_1_id, output_2_id)

    def annotator_id(self, name: str, kind: str = "human", **kwargs: Any) -> int:
        """Id of the annotator called ``name``, creating it once."""
        return self.store.annotator_id(name, kind, **kwargs)

    def start_session(self, annotator_id: int | None, kind: str, meta: dict[str, Any] | None = None) -> int:
        """Open a labelling / review / judge session and return its id."""
        return self.store.start_session(annotator_id, kind, meta)

    def add_annotation(self, **fields: Any) -> int:
        """Insert one annotation row and return its id."""
        return self.store.add_annotation(**fields)

    def retract_annotation(self, annotation_id: int, when: str | None = None) -> None:
        """Mark an annotation retracted (never deleted)."""
        self.store.retract_annotation(annotation_id, when)

    def restore_annotation(self, annotation_id: int) -> None:
        """Undo a retraction."""
        self.store.restore_annotation(annotation_id)
