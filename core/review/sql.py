"""SQL of spot-check audits and reviews: draws, frames, inclusion probabilities, review actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from tiebreak.core.store import Store, StoreError, Transaction, UnknownName, utcnow

__all__ = [
    "REASONS", "add_adhoc", "audit_groups", "group_names_by_kind", "datasets", "draw_rows", "frame", "inclusion", "mark_group",
    "group_mark", "mark_shown", "record_action", "record_reveal", "restore_action", "retract_action",
    "review_action", "samples", "save_draw", "review_rows",
]  # fmt: skip

#: Reasons a reviewer may give for overriding (or accepting) a judge verdict.
REASONS = (
    "style over substance", "factual error", "length", "harmful", "instruction not followed", "custom",
)  # fmt: skip


def group_names_by_kind(store: Store) -> dict[str, list[str]]:
    """Annotator group names per kind ("judge", "human"), sorted; cheap (no annotation is read)."""
    out: dict[str, list[str]] = {}
    for group, kind in store.conn.execute(
            "SELECT DISTINCT group_name, kind FROM annotators WHERE group_name IS NOT NULL ORDER BY group_name"):
        out.setdefault(str(kind), []).append(str(group))
    return out


def dashboard_labels(store: Store, groups: Sequence[str]) -> pd.DataFrame:
    """The live labels of ``groups`` with what the Human-vs-judge figures read, in annotation order.

    Columns: comparison_id, dataset, length_1, length_2, annotator (group), preference, swapped,
    source (no texts, completions or rationales: a judge's completions made the read 2-3x longer).
    """
    marks = ", ".join("?" * len(groups))
    sql = f"""
        SELECT a.comparison_id, i.dataset, t1.length AS length_1, t2.length AS length_2,
               an.group_name AS annotator, a.preference, a.swapped, a.source
        FROM annotations a
        JOIN annotators an ON an.id = a.annotator_id
        JOIN comparisons c ON c.id = a.comparison_id
        JOIN instructions i ON i.id = c.instruction_id
        JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
        JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
        WHERE a.retracted_at IS NULL AND an.group_name IN ({marks})
        ORDER BY a.id
    """
    return pd.read_sql_query(sql, store.conn, params=list(groups))


def audit_groups(store: Store) -> list[dict[str, Any]]:
    """Audit streams with their judge, design, number of draws and of drawn items."""
    rows = store.conn.execute(
        """SELECT d.audit_group, d.judge_group, d.design, count(*), sum(d.n_drawn)
           FROM audit_draws d GROUP BY d.audit_group ORDER BY min(d.id)"""
    ).fetchall()
    keys = ("audit_group", "judge_group", "design", "draws", "drawn")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def draw_rows(store: Store, audit_group: str) -> list[dict[str, Any]]:
    """Draws of one audit stream in order (empty if the stream does not exist)."""
    cur = store.conn.execute("SELECT * FROM audit_draws WHERE audit_group = ? ORDER BY id", (audit_group,))
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def save_draw(
    tx: Transaction,
    *,
    audit_group: str,
    judge_group: str,
    design: str,
    seed: int | None,
    n_requested: int,
    frame_rows: pd.DataFrame,
    pi: Sequence[float],
    drawn: Sequence[bool],
    order: Sequence[int],
    notes: str | None = None,
) -> int:
    """Store one draw in the caller's unit of work: the frame (first draw only), each pi, the samples.

    ``frame_rows`` has columns comparison_id, stratum, judge_score (one row per frame item, in
    the order of ``pi`` / ``drawn``); ``order`` gives the random review order of the drawn
    items. Probabilities are written here, before any item can be shown.
    """
    if not (len(frame_rows) == len(pi) == len(drawn)):
        raise StoreError(f"save_draw: {len(frame_rows)} frame rows, {len(pi)} probabilities, {len(drawn)} flags")
    now = utcnow()
    ids = [int(c) for c in frame_rows["comparison_id"]]
    if not draw_rows(tx.store, audit_group):
        tx.executemany(
            "INSERT INTO audit_frame (audit_group, comparison_id, stratum, judge_score) VALUES (?, ?, ?, ?)",
            [(audit_group, c, str(s), float(f)) for c, s, f in
             zip(ids, frame_rows["stratum"], frame_rows["judge_score"], strict=True)],
        )
    cur = tx.execute(
        """INSERT INTO audit_draws (audit_group, judge_group, design, seed, n_requested, n_drawn,
           population_size, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (audit_group, judge_group, design, seed, n_requested, int(sum(bool(d) for d in drawn)),
         len(ids), notes, now),
    )
    draw_id = int(cur.lastrowid)  # type: ignore[arg-type]
    tx.executemany(
        "INSERT INTO audit_inclusion (draw_id, comparison_id, inclusion_prob, drawn) VALUES (?, ?, ?, ?)",
        [(draw_id, c, float(p), int(bool(d))) for c, p, d in zip(ids, pi, drawn, strict=True)],
    )
    start = tx.execute(
        "SELECT coalesce(max(ordinal), -1) + 1 FROM audit_samples WHERE audit_group = ?", (audit_group,)
    ).fetchone()[0]
    tx.executemany(
        """INSERT INTO audit_samples (audit_group, judge_group, design, comparison_id, stream,
           inclusion_prob, draw_id, ordinal, picked_by, drawn_at)
           VALUES (?, ?, ?, ?, 'random', ?, ?, ?, 'draw', ?)
           ON CONFLICT (audit_group, comparison_id, stream) DO NOTHING""",
        [(audit_group, judge_group, design, ids[i], float(pi[i]), draw_id, start + k, now)
         for k, i in enumerate(order)],
    )
    return draw_id


def frame(store: Store, audit_group: str) -> pd.DataFrame:
    """The frame of an audit stream: comparison_id, stratum, judge_score (fixed at the first draw)."""
    return pd.read_sql_query(
        "SELECT comparison_id, stratum, judge_score FROM audit_frame WHERE audit_group = ? ORDER BY comparison_id",
        store.conn, params=[audit_group],
    )


def inclusion(store: Store, audit_group: str) -> pd.DataFrame:
    """Every stored probability of the stream: draw_id, comparison_id, inclusion_prob, drawn."""
    return pd.read_sql_query(
        """SELECT i.draw_id, i.comparison_id, i.inclusion_prob, i.drawn FROM audit_inclusion i
           JOIN audit_draws d ON d.id = i.draw_id WHERE d.audit_group = ? ORDER BY i.draw_id, i.comparison_id""",
        store.conn, params=[audit_group],
    )


def add_adhoc(tx: Transaction, audit_group: str, judge_group: str, comparison_id: int, picked_by: str) -> int:
    """Queue an item picked by hand or by filter in the ad-hoc stream (never used as random)."""
    tx.execute(
        """INSERT INTO audit_samples (audit_group, judge_group, comparison_id, stream, picked_by, drawn_at)
           VALUES (?, ?, ?, 'adhoc', ?, ?) ON CONFLICT (audit_group, comparison_id, stream) DO NOTHING""",
        (audit_group, judge_group, comparison_id, picked_by, utcnow()),
    )
    row = tx.execute(
        "SELECT id FROM audit_samples WHERE audit_group = ? AND comparison_id = ? AND stream = 'adhoc'",
        (audit_group, comparison_id),
    ).fetchone()
    return int(row[0])


def mark_shown(tx: Transaction, sample_id: int, when: str | None = None) -> None:
    """Record the first time a sample was shown (later showings keep the first time)."""
    cur = tx.execute(
        "UPDATE audit_samples SET shown_at = coalesce(shown_at, ?) WHERE id = ?", (when or utcnow(), sample_id)
    )
    if cur.rowcount == 0:
        raise UnknownName(f"no audit sample with id {sample_id}")


def samples(store: Store, audit_group: str | None = None, stream: str | None = None) -> pd.DataFrame:
    """Audit samples with their latest live review (blind and final preference, action, reason)."""
    where, args = ["1=1"], []
    if audit_group is not None:
        where.append("s.audit_group = ?")
        args.append(audit_group)
    if stream is not None:
        where.append("s.stream = ?")
        args.append(stream)
    sql = f"""
        SELECT s.id AS sample_id, s.audit_group, s.judge_group, s.design, s.comparison_id, s.stream,
               s.inclusion_prob, s.draw_id, s.ordinal, s.picked_by, s.drawn_at, s.shown_at,
               r.id AS review_id, a.preference AS blind_preference, r.judge_preference,
               r.action, r.final_preference, r.reason, r.reason_text, r.acted_at
        FROM audit_samples s
        LEFT JOIN review_actions r ON r.id = (
            SELECT max(r2.id) FROM review_actions r2 WHERE r2.sample_id = s.id AND r2.retracted_at IS NULL)
        LEFT JOIN annotations a ON a.id = r.blind_annotation_id
        WHERE {' AND '.join(where)} ORDER BY s.stream DESC, s.ordinal, s.id
    """
    return pd.read_sql_query(sql, store.conn, params=args)


def record_reveal(
    tx: Transaction,
    *,
    comparison_id: int,
    annotator_id: int,
    blind_annotation_id: int,
    judge_group: str,
    judge_preference: float | None,
    judge_confidence: float | None,
    sample_id: int | None = None,
    session_id: int | None = None,
) -> int:
    """Store what the reviewer was shown at reveal (the judge verdict) and return the review id."""
    cur = tx.execute(
        """INSERT INTO review_actions (sample_id, comparison_id, annotator_id, session_id,
           blind_annotation_id, judge_group, judge_preference, judge_confidence, revealed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (sample_id, comparison_id, annotator_id, session_id, blind_annotation_id, judge_group,
         judge_preference, judge_confidence, utcnow()),
    )
    return int(cur.lastrowid)  # type: ignore[arg-type]


def record_action(
    tx: Transaction, review_id: int, *, action: str, final_preference: float | None,
    final_choice: str | None, reason: str | None, reason_text: str | None,
) -> None:
    """Store the post-reveal action (accept / override), the final verdict and the reason."""
    if reason is not None and reason not in REASONS:
        raise StoreError(f"review {review_id}: unknown reason {reason!r} (choose from {', '.join(REASONS)})")
    cur = tx.execute(
        """UPDATE review_actions SET action = ?, final_preference = ?, final_choice = ?, reason = ?,
           reason_text = ?, acted_at = ? WHERE id = ? AND retracted_at IS NULL""",
        (action, final_preference, final_choice, reason, reason_text, utcnow(), review_id),
    )
    if cur.rowcount == 0:
        raise UnknownName(f"no live review with id {review_id}")


def retract_action(tx: Transaction, review_id: int) -> None:
    """Retract a review (undo); the row is kept."""
    tx.execute(
        "UPDATE review_actions SET retracted_at = ? WHERE id = ? AND retracted_at IS NULL", (utcnow(), review_id)
    )


def restore_action(tx: Transaction, review_id: int) -> None:
    """Restore a retracted review (redo): the blind link, the judge verdict and any action come back.

    Raises
    ------
    UnknownName
        No review with this id.
    StoreError
        The reviewer has another live review of the same item (it was decided again meanwhile).
    """
    row = tx.execute(
        "SELECT comparison_id, annotator_id, sample_id FROM review_actions WHERE id = ?", (review_id,)
    ).fetchone()
    if row is None:
        raise UnknownName(f"no review with id {review_id}")
    clash = tx.execute(
        """SELECT id FROM review_actions WHERE id != ? AND comparison_id = ? AND annotator_id = ?
           AND sample_id IS ? AND retracted_at IS NULL""",
        (review_id, *row),
    ).fetchone()
    if clash is not None:
        raise StoreError(f"review {review_id}: the item was reviewed again meanwhile (review {clash[0]}); "
                         "not restored")  # fmt: skip
    tx.execute("UPDATE review_actions SET retracted_at = NULL WHERE id = ?", (review_id,))


def review_action(store: Store, review_id: int) -> str | None:
    """The post-reveal action of a review ('accept' / 'override'), None while none was taken."""
    row = store.conn.execute("SELECT action FROM review_actions WHERE id = ?", (review_id,)).fetchone()
    if row is None:
        raise UnknownName(f"no review with id {review_id}")
    return None if row[0] is None else str(row[0])


def review_rows(store: Store, include_retracted: bool = False) -> pd.DataFrame:
    """All reviews with the blind annotation, the reviewer and the sample's stream."""
    where = "" if include_retracted else "WHERE r.retracted_at IS NULL"
    return pd.read_sql_query(
        f"""SELECT r.id AS review_id, r.comparison_id, r.sample_id, s.audit_group, s.stream,
                   s.inclusion_prob, an.name AS reviewer, an.group_name AS reviewer_group,
                   a.preference AS blind_preference, a.raw_choice AS blind_choice, a.swapped,
                   a.submitted_at AS blind_at, r.judge_group, r.judge_preference, r.judge_confidence,
                   r.revealed_at, r.action, r.final_preference, r.final_choice, r.reason,
                   r.reason_text, r.acted_at, r.retracted_at
            FROM review_actions r
            JOIN annotations a ON a.id = r.blind_annotation_id
            JOIN annotators an ON an.id = r.annotator_id
            LEFT JOIN audit_samples s ON s.id = r.sample_id {where} ORDER BY r.id""",
        store.conn,
    )


def datasets(store: Store) -> list[str]:
    """Names of the dataset categories of the stored instructions."""
    rows = store.conn.execute("SELECT DISTINCT dataset FROM instructions WHERE dataset IS NOT NULL ORDER BY 1")
    return [r[0] for r in rows]


def mark_group(tx: Transaction, group: str, stream: str, note: str | None = None) -> None:
    """Mark an imported human group as a random (uniform) sample or as ad-hoc labels."""
    if stream not in ("random", "adhoc"):
        raise StoreError(f"mark_group: stream must be 'random' or 'adhoc' (got {stream!r})")
    tx.execute(
        """INSERT INTO audit_marks (group_name, stream, note, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (group_name) DO UPDATE SET stream = excluded.stream, note = excluded.note""",
        (group, stream, note, utcnow()),
    )


def group_mark(store: Store, group: str) -> str | None:
    """The stream a human group was marked as ('random' / 'adhoc'), None if never marked."""
    row = store.conn.execute("SELECT stream FROM audit_marks WHERE group_name = ?", (group,)).fetchone()
    return None if row is None else str(row[0])


def reopen_review(tx: Transaction, review_id: int) -> int:
    """Undo an accept / override: the decided row is retracted and a live copy without the action
    (same blind vote, same judge verdict shown) takes its place; returns the copy's id."""
    cur = tx.execute(
        """INSERT INTO review_actions (sample_id, comparison_id, annotator_id, session_id,
           blind_annotation_id, judge_group, judge_preference, judge_confidence, revealed_at)
           SELECT sample_id, comparison_id, annotator_id, session_id, blind_annotation_id, judge_group,
                  judge_preference, judge_confidence, revealed_at
           FROM review_actions WHERE id = ? AND retracted_at IS NULL AND action IS NOT NULL""",
        (review_id,),
    )
    if cur.rowcount == 0:
        raise UnknownName(f"no decided live review with id {review_id}")
    new_id = int(cur.lastrowid)  # type: ignore[arg-type]
    tx.execute("UPDATE review_actions SET retracted_at = ? WHERE id = ?", (utcnow(), review_id))
    return new_id


def undecided_reviews(store: Store, annotator_id: int, sample_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Live reviews of these samples with a blind vote but no accept / override yet (to resume
    revealed), with the blind vote as stored: review_id, sample_id, comparison_id, annotation_id,
    raw_choice, preference, swapped, seconds, judge_preference, judge_confidence."""
    if not sample_ids:
        return []
    marks = ",".join("?" * len(sample_ids))
    cur = store.conn.execute(
        f"""SELECT r.id AS review_id, r.sample_id, r.comparison_id, a.id AS annotation_id, a.raw_choice,
                   a.preference, a.swapped, a.seconds, r.judge_preference, r.judge_confidence
            FROM review_actions r JOIN annotations a ON a.id = r.blind_annotation_id
            WHERE r.annotator_id = ? AND r.retracted_at IS NULL AND r.action IS NULL
              AND a.retracted_at IS NULL AND r.sample_id IN ({marks}) ORDER BY r.id""",
        (annotator_id, *sample_ids),
    )
    names = [c[0] for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
