"""The database schema, only as named migrations applied in order (never edited once shipped)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlite-utils (and with it pandas) is imported only when a migration is pending
    from sqlite_utils import Database

Step = Callable[["Database"], None]


class Schema:
    """Named migrations in order; sqlite-utils applies them, imported only when some are pending.

    Registering is ``@migrations(name="0007_feature")`` as with ``sqlite_utils.Migrations``. Opening
    a database that is already at head costs one query on ``_sqlite_migrations`` and imports
    nothing: sqlite-utils imports pandas and numpy when they are installed (about a second),
    which a fresh or older database pays once, when it is created or upgraded.
    """

    #: The bookkeeping table of sqlite-utils (``Migrations.migrations_table``).
    table = "_sqlite_migrations"

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: list[tuple[str, Step]] = []

    def __call__(self, *, name: str) -> Callable[[Step], Step]:
        """Decorator registering ``fn`` as the next migration, called ``name``."""

        def register(fn: Step) -> Step:
            if any(n == name for n, _ in self.steps):
                raise ValueError(f"migration {name!r} is registered twice")
            self.steps.append((name, fn))
            return fn

        return register

    def pending(self, conn: sqlite3.Connection) -> list[str]:
        """Names of the migrations not yet applied to the database behind ``conn`` (read-only)."""
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self.table,))
        if exists.fetchone() is None:
            return [n for n, _ in self.steps]
        rows = conn.execute(f"SELECT name FROM {self.table} WHERE migration_set = ?", (self.name,))
        done = {r[0] for r in rows}
        return [n for n, _ in self.steps if n not in done]

    def apply(self, conn: sqlite3.Connection) -> list[str]:
        """Apply the pending migrations (each in its own transaction); return their names."""
        pending = self.pending(conn)
        if pending:
            from sqlite_utils import Database
            from sqlite_utils.migrations import Migrations

            runner = Migrations(self.name)
            for name, fn in self.steps:
                runner(name=name)(fn)
            runner.apply(Database(conn, execute_plugins=False))  # no scan for sqlite-utils plugins
        return pending


migrations = Schema("tiebreak")


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


# -- 0006: win-rate sums kept by triggers ---------------------------------------------------
# Sums of x = preference - 1 (and x^2) are split into an exact fixed-point part,
# round(x * 2^32) summed as INTEGER, and the remainder r = x - fixed / 2^32 (|r| <= 2^-33,
# computed exactly in double precision) summed as REAL. The integer parts never drift under
# any mix of inserts, retractions and deletes; the REAL remainders add a rounding error below
# 2^-86 x (live labels of the key) per update, so sum_x / n stays within ~1e-15 of a fresh
# exact sum however long the history (a plain REAL running sum drifts by ~1e-16 x sum per
# update instead, and SE from sum and sum of squares would inherit it). int64 holds the fixed
# parts up to 2^31 labels per key.
_SCALE = "4294967296.0"  # 2^32


def _run_with_triggers(db: Database, script: str) -> None:
    """Like :func:`_run`, but splits on complete statements, so trigger bodies stay whole."""
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                db.execute(statement)
            statement = ""
    if statement.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement in migration: {statement[:80]!r}")


def _wr_values(row: str, sign: int) -> str:
    """SELECT list of one annotation's contribution (``sign`` +1 adds, -1 removes it)."""
    p, x = f"{row}.preference", f"({row}.preference - 1.0)"
    kept = f"{p} BETWEEN 1 AND 2"
    parts = []
    for val in (x, f"({x} * {x})"):
        fixed = f"CAST(round({val} * {_SCALE}) AS INTEGER)"
        parts.append(f"CASE WHEN {kept} THEN {sign} * {fixed} ELSE 0 END")
        parts.append(f"CASE WHEN {kept} THEN {sign} * ({val} - {fixed} / {_SCALE}) ELSE 0.0 END")
    return ", ".join([
        f"CASE WHEN {kept} THEN {sign} ELSE 0 END", f"CASE WHEN {kept} THEN 0 ELSE {sign} END",
        *parts,
        f"CASE WHEN {kept} AND {x} > 0.5 THEN {sign} ELSE 0 END",
        f"CASE WHEN {kept} AND {x} < 0.5 THEN {sign} ELSE 0 END",
        f"CASE WHEN {kept} AND {x} = 0.5 THEN {sign} ELSE 0 END",
    ])  # fmt: skip


_WR_COLS = (
    "n_total", "n_dropped", "sum_x_fixed", "sum_x_rest", "sum_x2_fixed", "sum_x2_rest",
    "n_wins", "n_wins_base", "n_draws",
)  # fmt: skip
_WR_KEY = "(SELECT o2.generator FROM comparisons c JOIN outputs o2 ON o2.id = c.output_2_id WHERE c.id = {r}.comparison_id), (SELECT o1.generator FROM comparisons c JOIN outputs o1 ON o1.id = c.output_1_id WHERE c.id = {r}.comparison_id), (SELECT group_name FROM annotators WHERE id = {r}.annotator_id)"  # noqa: E501


def _wr_apply(row: str, sign: int) -> str:
    """Upsert one annotation's contribution into winrate_sums (live rows only)."""
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in _WR_COLS)
    return f"""
        INSERT INTO winrate_sums (generator_2, generator_1, annotator, {", ".join(_WR_COLS)})
        SELECT o2.generator, o1.generator, an.group_name, {_wr_values(row, sign)}
        FROM comparisons c JOIN outputs o1 ON o1.id = c.output_1_id
        JOIN outputs o2 ON o2.id = c.output_2_id JOIN annotators an ON an.id = {row}.annotator_id
        WHERE c.id = {row}.comparison_id AND {row}.retracted_at IS NULL
        ON CONFLICT (generator_2, generator_1, annotator) DO UPDATE SET {updates}"""


def _wr_prune(row: str) -> str:
    """Drop the key of ``row`` once it holds no live annotation."""
    return f"""
        DELETE FROM winrate_sums WHERE n_total = 0 AND n_dropped = 0
        AND (generator_2, generator_1, annotator) = ({_WR_KEY.format(r=row)})"""


def _wr_rebuild(where: str) -> str:
    """Recompute every winrate_sums row whose key matches ``where`` from the annotations."""
    fixed = "CAST(round({v} * " + _SCALE + ") AS INTEGER)"
    x, x2 = "(a.preference - 1.0)", "((a.preference - 1.0) * (a.preference - 1.0))"
    kept = "a.preference BETWEEN 1 AND 2"
    return f"""
        DELETE FROM winrate_sums WHERE {where.format(g2="generator_2", g1="generator_1", an="annotator")};
        INSERT INTO winrate_sums (generator_2, generator_1, annotator, {", ".join(_WR_COLS)})
        SELECT o2.generator, o1.generator, an.group_name,
               count(*) FILTER (WHERE {kept}), count(*) FILTER (WHERE NOT {kept} OR a.preference IS NULL),
               coalesce(sum({fixed.format(v=x)}) FILTER (WHERE {kept}), 0),
               total({x} - {fixed.format(v=x)} / {_SCALE}) FILTER (WHERE {kept}),
               coalesce(sum({fixed.format(v=x2)}) FILTER (WHERE {kept}), 0),
               total({x2} - {fixed.format(v=x2)} / {_SCALE}) FILTER (WHERE {kept}),
               count(*) FILTER (WHERE {kept} AND {x} > 0.5), count(*) FILTER (WHERE {kept} AND {x} < 0.5),
               count(*) FILTER (WHERE {kept} AND {x} = 0.5)
        FROM annotations a JOIN comparisons c ON c.id = a.comparison_id
        JOIN outputs o1 ON o1.id = c.output_1_id JOIN outputs o2 ON o2.id = c.output_2_id
        JOIN annotators an ON an.id = a.annotator_id
        WHERE a.retracted_at IS NULL AND {where.format(g2="o2.generator", g1="o1.generator", an="an.group_name")}
        GROUP BY o2.generator, o1.generator, an.group_name"""  # noqa: E501


def _len_apply(row: str, sign: int) -> str:
    """Upsert one output's length into generator_length_sums."""
    return f"""
        INSERT INTO generator_length_sums (generator, n_outputs, total_chars)
        SELECT {row}.generator, {sign}, {sign} * t.length FROM texts t WHERE t.id = {row}.text_id
        ON CONFLICT (generator) DO UPDATE SET n_outputs = n_outputs + excluded.n_outputs,
            total_chars = total_chars + excluded.total_chars"""


@migrations(name="0006_winrate_sums")
def m0006_winrate_sums(db: Database) -> None:
    """Leaderboard sufficient statistics per (candidate, reference, group) and per-generator
    output lengths, kept exact by triggers and backfilled from the existing rows."""
    changed = (
        "(OLD.retracted_at IS NULL OR NEW.retracted_at IS NULL) AND NOT (OLD.retracted_at IS NULL"
        " AND NEW.retracted_at IS NULL AND OLD.preference IS NEW.preference"
        " AND OLD.comparison_id = NEW.comparison_id AND OLD.annotator_id = NEW.annotator_id)"
    )
    rebuild_group = "{an} IN (OLD.group_name, NEW.group_name)"
    rebuild_generator = "({g1} IN (OLD.generator, NEW.generator) OR {g2} IN (OLD.generator, NEW.generator))"
    gen2 = "(SELECT generator FROM outputs WHERE id = {r}.output_2_id)"
    rebuild_comparison = f"{{g2}} IN ({gen2.format(r='OLD')}, {gen2.format(r='NEW')})"
    _run_with_triggers(
        db,
        f"""
        CREATE TABLE winrate_sums (
            generator_2 TEXT NOT NULL,
            generator_1 TEXT NOT NULL,
            annotator TEXT NOT NULL,
            n_total INTEGER NOT NULL,
            n_dropped INTEGER NOT NULL,
            sum_x_fixed INTEGER NOT NULL,
            sum_x_rest REAL NOT NULL,
            sum_x2_fixed INTEGER NOT NULL,
            sum_x2_rest REAL NOT NULL,
            n_wins INTEGER NOT NULL,
            n_wins_base INTEGER NOT NULL,
            n_draws INTEGER NOT NULL,
            PRIMARY KEY (generator_2, generator_1, annotator)
        ) WITHOUT ROWID;
        CREATE TABLE generator_length_sums (
            generator TEXT PRIMARY KEY,
            n_outputs INTEGER NOT NULL,
            total_chars INTEGER NOT NULL
        ) WITHOUT ROWID;
        {_wr_rebuild("1")};
        INSERT INTO generator_length_sums (generator, n_outputs, total_chars)
            SELECT o.generator, count(*), sum(t.length) FROM outputs o JOIN texts t ON t.id = o.text_id
            GROUP BY o.generator;
        CREATE TRIGGER winrate_sums_insert AFTER INSERT ON annotations
            WHEN NEW.retracted_at IS NULL
        BEGIN {_wr_apply("NEW", 1)}; END;
        CREATE TRIGGER winrate_sums_delete AFTER DELETE ON annotations
            WHEN OLD.retracted_at IS NULL
        BEGIN {_wr_apply("OLD", -1)}; {_wr_prune("OLD")}; END;
        CREATE TRIGGER winrate_sums_update
            AFTER UPDATE OF preference, retracted_at, comparison_id, annotator_id ON annotations
            WHEN {changed}
        BEGIN {_wr_apply("OLD", -1)}; {_wr_apply("NEW", 1)}; {_wr_prune("OLD")}; END;
        CREATE TRIGGER winrate_sums_group AFTER UPDATE OF group_name ON annotators
            WHEN OLD.group_name IS NOT NEW.group_name
        BEGIN {_wr_rebuild(rebuild_group)}; END;
        CREATE TRIGGER winrate_sums_generator AFTER UPDATE OF generator ON outputs
            WHEN OLD.generator IS NOT NEW.generator
        BEGIN {_wr_rebuild(rebuild_generator)}; END;
        CREATE TRIGGER winrate_sums_comparison AFTER UPDATE OF output_1_id, output_2_id ON comparisons
            WHEN OLD.output_1_id IS NOT NEW.output_1_id OR OLD.output_2_id IS NOT NEW.output_2_id
        BEGIN {_wr_rebuild(rebuild_comparison)}; END;
        CREATE TRIGGER generator_length_sums_insert AFTER INSERT ON outputs
        BEGIN {_len_apply("NEW", 1)}; END;
        CREATE TRIGGER generator_length_sums_delete AFTER DELETE ON outputs
        BEGIN {_len_apply("OLD", -1)};
            DELETE FROM generator_length_sums WHERE generator = OLD.generator AND n_outputs = 0; END;
        CREATE TRIGGER generator_length_sums_update AFTER UPDATE OF generator, text_id ON outputs
        BEGIN {_len_apply("OLD", -1)}; {_len_apply("NEW", 1)};
            DELETE FROM generator_length_sums WHERE generator = OLD.generator AND n_outputs = 0; END;
        CREATE TRIGGER generator_length_sums_text AFTER UPDATE OF length ON texts
            WHEN OLD.length IS NOT NEW.length
        BEGIN
            UPDATE generator_length_sums SET total_chars = total_chars + (NEW.length - OLD.length)
                * (SELECT count(*) FROM outputs o WHERE o.text_id = NEW.id
                   AND o.generator = generator_length_sums.generator)
            WHERE generator IN (SELECT generator FROM outputs WHERE text_id = NEW.id);
        END
        """,
    )


@migrations(name="0007_guiint_database_id")
def m0007_guiint_database_id(db: Database) -> None:
    """A random identity for the database, made once: what the app remembers is keyed by it
    (the last annotator of *this* database), never by the file's path or globally."""
    import uuid

    db.execute("CREATE TABLE database_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO database_info (key, value) VALUES ('id', ?)", [uuid.uuid4().hex])


@migrations(name="0008_crowd_rounds")
def m0008_crowd_rounds(db: Database) -> None:
    """Crowd rounds: items keyed by content, balanced assignments, packs, merged events, exclusions;
    and the pack-side tables (identity, items, outgoing events)."""
    _run(
        db,
        """
        CREATE TABLE crowd_rounds (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            overlap INTEGER NOT NULL CHECK (overlap >= 1),
            group_name TEXT NOT NULL,
            items_filter TEXT,
            guidelines TEXT,
            seed INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE TABLE crowd_items (
            id INTEGER PRIMARY KEY,
            round_id INTEGER NOT NULL REFERENCES crowd_rounds(id),
            item_key TEXT NOT NULL,
            comparison_id INTEGER REFERENCES comparisons(id),
            kind TEXT NOT NULL CHECK (kind IN ('item', 'gold', 'repeat', 'identical')),
            mirrored INTEGER NOT NULL DEFAULT 0,
            expected REAL,
            UNIQUE (round_id, item_key)
        );
        CREATE INDEX crowd_items_comparison ON crowd_items(comparison_id);
        CREATE TABLE crowd_workers (
            round_id INTEGER NOT NULL REFERENCES crowd_rounds(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            excluded_at TEXT,
            PRIMARY KEY (round_id, annotator_id)
        );
        CREATE TABLE crowd_packs (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            round_id INTEGER NOT NULL REFERENCES crowd_rounds(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            path TEXT,
            n_items INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            last_merged_at TEXT
        );
        CREATE TABLE crowd_assignments (
            item_id INTEGER NOT NULL REFERENCES crowd_items(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            pack_id INTEGER NOT NULL REFERENCES crowd_packs(id),
            swapped INTEGER NOT NULL DEFAULT 0,
            position INTEGER NOT NULL,
            PRIMARY KEY (item_id, annotator_id)
        ) WITHOUT ROWID;
        CREATE INDEX crowd_assignments_pack ON crowd_assignments(pack_id);
        CREATE TABLE crowd_events (
            uuid TEXT PRIMARY KEY,
            round_id INTEGER NOT NULL REFERENCES crowd_rounds(id),
            pack_uuid TEXT NOT NULL,
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            item_key TEXT,
            kind TEXT NOT NULL,
            choice TEXT,
            swapped INTEGER,
            shown_at TEXT,
            submitted_at TEXT,
            seconds REAL,
            note TEXT,
            refers_to TEXT,
            at TEXT NOT NULL,
            seq INTEGER NOT NULL,
            local_id INTEGER,
            merged_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX crowd_events_worker ON crowd_events(round_id, annotator_id);
        CREATE INDEX crowd_events_pack ON crowd_events(pack_uuid);
        CREATE TABLE crowd_labels (
            round_id INTEGER NOT NULL REFERENCES crowd_rounds(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            item_key TEXT NOT NULL,
            uuid TEXT NOT NULL,
            annotation_id INTEGER REFERENCES annotations(id),
            PRIMARY KEY (round_id, annotator_id, item_key)
        ) WITHOUT ROWID;
        CREATE INDEX crowd_labels_item ON crowd_labels(round_id, item_key);
        CREATE TABLE crowd_merges (
            id INTEGER PRIMARY KEY,
            round_id INTEGER REFERENCES crowd_rounds(id),
            path TEXT NOT NULL,
            pack_uuid TEXT,
            n_events INTEGER NOT NULL,
            n_new INTEGER NOT NULL,
            status TEXT NOT NULL,
            message TEXT,
            merged_at TEXT NOT NULL
        );
        CREATE TABLE crowd_pack (
            key TEXT PRIMARY KEY,
            value TEXT
        );
        CREATE TABLE crowd_pack_items (
            comparison_id INTEGER PRIMARY KEY REFERENCES comparisons(id),
            item_key TEXT NOT NULL UNIQUE,
            position INTEGER NOT NULL,
            swapped INTEGER NOT NULL
        );
        CREATE TABLE crowd_pack_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            uuid TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            item_key TEXT,
            choice TEXT,
            swapped INTEGER,
            shown_at TEXT,
            submitted_at TEXT,
            seconds REAL,
            note TEXT,
            local_ref INTEGER,
            refers_to TEXT,
            at TEXT NOT NULL
        )
        """,
    )


def _lc_bump_panel(row: str) -> str:
    """Bump the data version of the (annotator group, reference) panel of annotation ``row``."""
    return f"""
        INSERT INTO lc_panel_versions (annotator, reference, version)
        SELECT an.group_name, o1.generator, 1
        FROM comparisons c JOIN outputs o1 ON o1.id = c.output_1_id, annotators an
        WHERE c.id = {row}.comparison_id AND an.id = {row}.annotator_id
        ON CONFLICT (annotator, reference) DO UPDATE SET version = version + 1"""


#: Changes that can touch any panel's LC fit: (name, event, condition) of a trigger bumping lc_data_version.
_LC_GLOBAL_TRIGGERS = (
    ("annotators_group", "UPDATE OF group_name ON annotators", "OLD.group_name IS NOT NEW.group_name"),
    ("annotators_delete", "DELETE ON annotators", "1"),
    ("outputs_update", "UPDATE OF generator, text_id, instruction_id ON outputs", "1"),
    ("outputs_delete", "DELETE ON outputs", "1"),
    ("comparisons_update", "UPDATE OF output_1_id, output_2_id, instruction_id ON comparisons", "1"),
    ("comparisons_delete", "DELETE ON comparisons", "1"),
    ("texts_update", "UPDATE OF length, sha1 ON texts", "1"),
    ("instructions_update", "UPDATE OF text_id ON instructions", "1"),
    ("instructions_delete", "DELETE ON instructions", "1"),
)  # fmt: skip
_LC_SEED = "INSERT INTO lc_data_version (id, version) VALUES (1, 0)"
#: Rows the migrations seed into a new database (besides its id): a copy of the schema must add them too.
SEED_STATEMENTS = (_LC_SEED,)
_LC_TABLES = f"""
    CREATE TABLE lc_data_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    );
    {_LC_SEED};
    CREATE TABLE lc_panel_versions (
        annotator TEXT NOT NULL,
        reference TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (annotator, reference)
    ) WITHOUT ROWID;
    CREATE TABLE lc_cache (
        annotator TEXT NOT NULL,
        reference TEXT NOT NULL,
        model TEXT NOT NULL,
        method TEXT NOT NULL,
        data_version INTEGER NOT NULL,
        panel_version INTEGER NOT NULL,
        lc REAL,
        lc_se REAL,
        lc_method TEXT NOT NULL,
        lc_note TEXT NOT NULL,
        wilson_low REAL,
        wilson_high REAL,
        interval_note TEXT NOT NULL,
        PRIMARY KEY (annotator, reference, model, method)
    ) WITHOUT ROWID;
"""


@migrations(name="0009_lbperf_lc_cache")
def m0009_lbperf_lc_cache(db: Database) -> None:
    """A cache of the leaderboard's per-model LC fit and Wilson interval, valid for one data version.

    ``lc_panel_versions`` counts changes to the annotations of each (annotator group, reference)
    panel (insert, update, retract, delete); ``lc_data_version`` counts changes that can touch
    any panel (:data:`_LC_GLOBAL_TRIGGERS`). A cached row is used only while both versions equal
    the ones it was computed at.
    """
    annotation_changed = (
        "OLD.preference IS NOT NEW.preference OR OLD.retracted_at IS NOT NEW.retracted_at"
        " OR OLD.comparison_id IS NOT NEW.comparison_id OR OLD.annotator_id IS NOT NEW.annotator_id"
    )
    bump_all = "\n".join(
        f"CREATE TRIGGER lc_version_{name} AFTER {event} WHEN {when}"
        " BEGIN UPDATE lc_data_version SET version = version + 1; END;"
        for name, event, when in _LC_GLOBAL_TRIGGERS
    )
    _run_with_triggers(
        db,
        f"""
        {_LC_TABLES}
        CREATE TRIGGER lc_version_annotation_insert AFTER INSERT ON annotations
        BEGIN {_lc_bump_panel("NEW")}; END;
        CREATE TRIGGER lc_version_annotation_delete AFTER DELETE ON annotations
        BEGIN {_lc_bump_panel("OLD")}; END;
        CREATE TRIGGER lc_version_annotation_update
            AFTER UPDATE OF preference, retracted_at, comparison_id, annotator_id ON annotations
            WHEN {annotation_changed}
        BEGIN {_lc_bump_panel("OLD")}; {_lc_bump_panel("NEW")}; END;
        {bump_all}
        """,
    )


@migrations(name="0010_visits_live_annotator_index")
def m0010_visits_live_annotator_index(db: Database) -> None:
    """Live labels per annotator from an index alone (the groups' counts every screen reads first)."""
    _run(db, "CREATE INDEX IF NOT EXISTS annotations_live_annotator ON annotations(annotator_id) "
             "WHERE retracted_at IS NULL")  # fmt: skip


@migrations(name="0011_lcfast_lc_read_indexes")
def m0011_lcfast_lc_read_indexes(db: Database) -> None:
    """Covering indexes for the cold leaderboard's one read of every live row: the annotation's
    comparison, annotator and preference without its row (judge completions spill onto overflow
    pages before ``retracted_at``), and each text's length without its body."""
    _run(db, """
        CREATE INDEX IF NOT EXISTS annotations_live_lc
            ON annotations(id, comparison_id, annotator_id, preference, retracted_at) WHERE retracted_at IS NULL;
        CREATE INDEX IF NOT EXISTS texts_id_length ON texts(id, length)
    """)  # fmt: skip
