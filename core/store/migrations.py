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


@migrations(name="0004_labelling")
def m0004_labelling(db: Database) -> None:
    """Skips of the labelling queue (deferrals, not answers) and a lookup index for resuming."""
    _run(
        db,
        """
        CREATE TABLE skips (
            id INTEGER PRIMARY KEY,
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            session_id INTEGER REFERENCES sessions(id),
            swapped INTEGER NOT NULL DEFAULT 0,
            seconds REAL,
            shown_at TEXT,
            submitted_at TEXT,
            created_at TEXT NOT NULL,
            retracted_at TEXT
        );
        CREATE INDEX skips_annotator ON skips(annotator_id, comparison_id);
        CREATE INDEX annotations_annotator_comparison ON annotations(annotator_id, comparison_id)
        """,
    )


@migrations(name="0003_judge")
def m0003_judge(db: Database) -> None:
    """Judge runs, the verdict cache keyed by shown texts + config hash + seed, and failures."""
    _run(
        db,
        """
        CREATE TABLE judge_runs (
            id INTEGER PRIMARY KEY,
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            config_name TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            base_url TEXT,
            mode TEXT NOT NULL CHECK (mode IN ('online', 'batch')),
            status TEXT NOT NULL,
            options TEXT,
            batch_id TEXT,
            summary TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE TABLE judge_cache (
            id INTEGER PRIMARY KEY,
            instruction_text_id INTEGER NOT NULL REFERENCES texts(id),
            first_text_id INTEGER NOT NULL REFERENCES texts(id),
            second_text_id INTEGER NOT NULL REFERENCES texts(id),
            config_hash TEXT NOT NULL,
            seed INTEGER NOT NULL,
            raw_preference REAL NOT NULL,
            raw_completion TEXT,
            rationale TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            price REAL,
            seconds REAL,
            run_id INTEGER REFERENCES judge_runs(id),
            created_at TEXT NOT NULL,
            UNIQUE (instruction_text_id, first_text_id, second_text_id, config_hash, seed)
        );
        CREATE TABLE judge_failures (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES judge_runs(id),
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
            seed INTEGER NOT NULL,
            swapped INTEGER NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX judge_failures_run ON judge_failures(run_id)
        """,
    )


@migrations(name="0005_review")
def m0005_review(db: Database) -> None:
    """Spot-check audits (draws, frames, inclusion probabilities, samples) and review actions."""
    _run(
        db,
        """
        CREATE TABLE audit_draws (
            id INTEGER PRIMARY KEY,
            audit_group TEXT NOT NULL,
            judge_group TEXT NOT NULL,
            design TEXT NOT NULL CHECK (design IN ('uniform', 'stratified', 'uncertainty')),
            seed INTEGER,
            n_requested INTEGER NOT NULL,
            n_drawn INTEGER NOT NULL,
            population_size INTEGER NOT NULL,
            notes TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX audit_draws_group ON audit_draws(audit_group);
        CREATE TABLE audit_frame (
            audit_group TEXT NOT NULL,
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
            stratum TEXT NOT NULL,
            judge_score REAL NOT NULL,
            PRIMARY KEY (audit_group, comparison_id)
        );
        CREATE TABLE audit_inclusion (
            draw_id INTEGER NOT NULL REFERENCES audit_draws(id),
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
            inclusion_prob REAL NOT NULL CHECK (inclusion_prob > 0 AND inclusion_prob <= 1),
            drawn INTEGER NOT NULL,
            PRIMARY KEY (draw_id, comparison_id)
        );
        CREATE TABLE audit_samples (
            id INTEGER PRIMARY KEY,
            audit_group TEXT NOT NULL,
            judge_group TEXT NOT NULL,
            design TEXT,
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
            stream TEXT NOT NULL CHECK (stream IN ('random', 'adhoc')),
            inclusion_prob REAL CHECK (inclusion_prob IS NULL OR (inclusion_prob > 0 AND inclusion_prob <= 1)),
            draw_id INTEGER REFERENCES audit_draws(id),
            ordinal INTEGER,
            picked_by TEXT,
            drawn_at TEXT NOT NULL,
            shown_at TEXT,
            CHECK (stream = 'adhoc' OR inclusion_prob IS NOT NULL),
            UNIQUE (audit_group, comparison_id, stream)
        );
        CREATE INDEX audit_samples_group ON audit_samples(audit_group, stream, ordinal);
        CREATE TABLE review_actions (
            id INTEGER PRIMARY KEY,
            sample_id INTEGER REFERENCES audit_samples(id),
            comparison_id INTEGER NOT NULL REFERENCES comparisons(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            session_id INTEGER REFERENCES sessions(id),
            blind_annotation_id INTEGER NOT NULL REFERENCES annotations(id),
            judge_group TEXT NOT NULL,
            judge_preference REAL,
            judge_confidence REAL,
            revealed_at TEXT NOT NULL,
            action TEXT CHECK (action IS NULL OR action IN ('accept', 'override')),
            final_preference REAL CHECK (final_preference IS NULL OR (final_preference >= 1 AND final_preference <= 2)),
            final_choice TEXT,
            reason TEXT CHECK (reason IS NULL OR reason IN ('style over substance', 'factual error',
                'length', 'harmful', 'instruction not followed', 'custom')),
            reason_text TEXT,
            acted_at TEXT,
            retracted_at TEXT
        );
        CREATE INDEX review_actions_comparison ON review_actions(comparison_id);
        CREATE TABLE audit_marks (
            group_name TEXT PRIMARY KEY,
            stream TEXT NOT NULL CHECK (stream IN ('random', 'adhoc')),
            note TEXT,
            created_at TEXT NOT NULL
        )
        """,
    )


@migrations(name="0002_import_indexes")
def m0002_import_indexes(db: Database) -> None:
    """Indexes for batched imports: outputs by text, comparisons by candidate output."""
    _run(
        db,
        """
        CREATE INDEX IF NOT EXISTS outputs_text ON outputs(text_id);
        CREATE INDEX IF NOT EXISTS comparisons_output_2 ON comparisons(output_2_id)
        """,
    )
