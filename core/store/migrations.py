"""The database schema, only as named migrations applied in order (never edited once shipped)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("tiebreak")


def _run(db: Database, script: str) -> None:
    """Execute ``;``-separated DDL inside the caller's transaction (executescript would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0001_core")
def m0001_core(db: Database) -> None:
    """Texts, instructions, outputs, comparisons, annotators, sessions, imports, annotations."""
    _run(
        db,
        """
        CREATE TABLE texts (
            id INTEGER PRIMARY KEY,
            sha1 TEXT NOT NULL UNIQUE,
            body TEXT NOT NULL,
            length INTEGER NOT NULL
        );
        CREATE TABLE instructions (
            id INTEGER PRIMARY KEY,
            text_id INTEGER NOT NULL UNIQUE REFERENCES texts(id),
            dataset TEXT,
            ordinal INTEGER
        );
        CREATE TABLE outputs (
            id INTEGER PRIMARY KEY,
            instruction_id INTEGER NOT NULL REFERENCES instructions(id),
            generator TEXT NOT NULL,
            text_id INTEGER NOT NULL REFERENCES texts(id),
            UNIQUE (instruction_id, generator, text_id)
        );
        CREATE INDEX outputs_generator ON outputs(generator);
        CREATE TABLE comparisons (
            id INTEGER PRIMARY KEY,
            instruction_id INTEGER NOT NULL REFERENCES instructions(id),
            output_1_id INTEGER NOT NULL REFERENCES outputs(id),
            output_2_id INTEGER NOT NULL REFERENCES outputs(id),
            UNIQUE (output_1_id, output_2_id)
        );
        CREATE INDEX comparisons_instruction ON comparisons(instruction_id);
        CREATE TABLE annotators (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('human', 'judge')),
            group_name TEXT NOT NULL,
            member TEXT,
            config TEXT,
            config_hash TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX annotators_group ON annotators(group_name);
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            annotator_id INTEGER REFERENCES annotators(id),
            kind TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            meta TEXT
        );
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            format TEXT NOT NULL,
            n_records INTEGER NOT NULL,
            n_added INTEGER NOT NULL,
            imported_at TEXT NOT NULL
        );
        CREATE TABLE annotations (
            id INTEGER PRIMARY KEY,
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            preference REAL CHECK (preference IS NULL OR (preference >= 1 AND preference <= 2)),
            raw_choice TEXT,
            raw_preference REAL,
            swapped INTEGER NOT NULL DEFAULT 0,
            rationale TEXT,
            raw_completion TEXT,
            price REAL,
            seconds REAL,
            seed INTEGER NOT NULL DEFAULT 0,
            run_id INTEGER,
            session_id INTEGER REFERENCES sessions(id),
            import_id INTEGER REFERENCES imports(id),
            source TEXT NOT NULL CHECK (source IN ('import', 'label', 'judge', 'review')),
            judge_visible INTEGER NOT NULL DEFAULT 0,
            extra TEXT,
            shown_at TEXT,
            submitted_at TEXT,
            created_at TEXT NOT NULL,
            retracted_at TEXT
        );
        CREATE INDEX annotations_comparison ON annotations(comparison_id);
        CREATE INDEX annotations_annotator ON annotations(annotator_id);
        CREATE UNIQUE INDEX annotations_import_identity
            ON annotations(comparison_id, annotator_id, seed) WHERE source = 'import';
        CREATE TABLE flags (
            id INTEGER PRIMARY KEY,
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
            annotator_id INTEGER REFERENCES annotators(id),
            session_id INTEGER REFERENCES sessions(id),
            note TEXT,
            created_at TEXT NOT NULL,
            retracted_at TEXT
        )
        """,
    )
