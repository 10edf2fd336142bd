"""The unit of work: the only object with write methods (``with store.transaction() as tx:``)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import TYPE_CHECKING, Any

from tiebreak.core.store.errors import StoreError
from tiebreak.core.store.util import text_sha1, utcnow

if TYPE_CHECKING:
    from tiebreak.core.store.connection import Store

__all__ = ["ANNOTATION_FIELDS", "Transaction"]

ANNOTATION_FIELDS = (
    "comparison_id", "annotator_id", "preference", "raw_choice", "raw_preference", "swapped",
    "rationale", "raw_completion", "price", "seconds", "seed", "run_id", "session_id",
    "import_id", "source", "judge_visible", "extra", "shown_at", "submitted_at",
)  # fmt: skip


class Transaction:
    """The write half of a :class:`Store`, valid only inside its ``with store.transaction()`` block.

    Every write of Tiebreak goes through a ``tx``: its identity helpers (get-or-insert of texts,
    instructions, outputs, comparisons, annotators), sessions and annotation rows here, and the
    features' SQL modules through :meth:`execute`. Reads go through the store (or ``tx.execute``
    when they must see this transaction's own writes, which the store's reads also do: same
    connection). Using a ``tx`` after its block ended raises :class:`StoreError`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._conn: sqlite3.Connection | None = store.conn

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, while the transaction is open."""
        if self._conn is None:
            raise StoreError("this transaction has ended: open a new one with store.transaction()")
        return self._conn

    def _close(self) -> None:
        self._conn = None

    # -- raw statements -----------------------------------------------------------------
    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        """Run one write (or read) statement inside this transaction."""
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        """Run one statement for each parameter row inside this transaction."""
        return self.conn.executemany(sql, rows)

    # -- identities ---------------------------------------------------------------------
    def intern_text(self, body: str) -> int:
        """Id of ``body`` in the texts table, inserting it once."""
        key = text_sha1(body)
        cache = self.store._text_ids
        cached = cache.get(key)
        if cached is not None:
            return cached
        row = self.execute("SELECT id FROM texts WHERE sha1 = ?", (key,)).fetchone()
        if row is None:
            cur = self.execute("INSERT INTO texts (sha1, body, length) VALUES (?, ?, ?)", (key, body, len(body)))
            text_id = int(cur.lastrowid)  # type: ignore[arg-type]
        else:
            text_id = int(row[0])
        cache[key] = text_id
        return text_id

    def instruction_id(self, text: str, dataset: str | None = None) -> int:
        """Id of the instruction with this text, inserting it once (dataset kept if first seen)."""
        text_id = self.intern_text(text)
        row = self.execute("SELECT id, dataset FROM instructions WHERE text_id = ?", (text_id,)).fetchone()
        if row is not None:
            if row[1] is None and dataset is not None:
                self.execute("UPDATE instructions SET dataset = ? WHERE id = ?", (dataset, row[0]))
            return int(row[0])
        cur = self.execute("INSERT INTO instructions (text_id, dataset) VALUES (?, ?)", (text_id, dataset))
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def output_id(self, instruction_id: int, generator: str, text: str) -> int:
        """Id of this generator's output for this instruction, inserting it once."""
        text_id = self.intern_text(text)
        key = (instruction_id, generator, text_id)
        row = self.execute(
            "SELECT id FROM outputs WHERE instruction_id = ? AND generator = ? AND text_id = ?", key
        ).fetchone()
        if row is not None:
            return int(row[0])
        cur = self.execute("INSERT INTO outputs (instruction_id, generator, text_id) VALUES (?, ?, ?)", key)
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def comparison_id(self, instruction_id: int, output_1_id: int, output_2_id: int) -> int:
        """Id of the comparison (output_1 = reference, output_2 = candidate), inserting it once."""
        row = self.execute(
            "SELECT id FROM comparisons WHERE output_1_id = ? AND output_2_id = ?", (output_1_id, output_2_id)
        ).fetchone()
        if row is not None:
            return int(row[0])
        cur = self.execute(
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
        row = self.execute("SELECT id FROM annotators WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        config_text = json.dumps(config, sort_keys=True) if config is not None else None
        config_hash = hashlib.sha256(config_text.encode()).hexdigest()[:16] if config_text else None
        cur = self.execute(
            "INSERT INTO annotators (name, kind, group_name, member, config, config_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, kind, group or name, member, config_text, config_hash, utcnow()),
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    # -- sessions and annotations ---------------------------------------------------------
    def start_session(self, annotator_id: int | None, kind: str, meta: dict[str, Any] | None = None) -> int:
        """Open a labelling / review / judge session and return its id."""
        cur = self.execute(
            "INSERT INTO sessions (annotator_id, kind, started_at, meta) VALUES (?, ?, ?, ?)",
            (annotator_id, kind, utcnow(), json.dumps(meta) if meta else None),
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def end_session(self, session_id: int) -> None:
        """Stamp the end time of a session."""
        self.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (utcnow(), session_id))

    def add_annotation(self, **fields: Any) -> int:
        """Insert one annotation row (see ANNOTATION_FIELDS) and return its id."""
        unknown = set(fields) - set(ANNOTATION_FIELDS)
        if unknown:
            raise StoreError(f"unknown annotation field(s): {', '.join(sorted(unknown))}")
        fields.setdefault("source", "label")
        if isinstance(fields.get("extra"), dict):
            fields["extra"] = json.dumps(fields["extra"], sort_keys=True)
        cols = [*fields, "created_at"]
        values = [*fields.values(), utcnow()]
        cur = self.execute(
            f"INSERT INTO annotations ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values
        )
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def retract_annotation(self, annotation_id: int, when: str | None = None) -> None:
        """Mark an annotation retracted (never deleted)."""
        self.execute(
            "UPDATE annotations SET retracted_at = ? WHERE id = ? AND retracted_at IS NULL",
            (when or utcnow(), annotation_id),
        )

    def restore_annotation(self, annotation_id: int) -> None:
        """Undo a retraction (redo of a label)."""
        self.execute("UPDATE annotations SET retracted_at = NULL WHERE id = ?", (annotation_id,))
