"""SQL of the Browse screen: comparison ids under a filter, candidate generators, verdicts of one item."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tiebreak.core.store import Store

__all__ = ["BrowseFilter", "candidate_generators", "comparison_ids", "datasets", "flags", "group_names", "list_rows",
           "review_actions", "verdicts"]

_ORDER = "ORDER BY coalesce(i.ordinal, i.id), i.id, c.id"


def candidate_generators(store: Store) -> list[str]:
    """Names of the generators that appear as output_2 (the candidate) of some comparison."""
    rows = store.conn.execute(
        """SELECT DISTINCT o.generator FROM comparisons c JOIN outputs o ON o.id = c.output_2_id
           ORDER BY o.generator"""
    ).fetchall()
    return [str(r[0]) for r in rows]


@dataclass(frozen=True)
class BrowseFilter:
    """What Browse lists (every field optional; all given ones must hold).

    Attributes
    ----------
    generators : tuple of str
        Candidate (output_2) generators.
    group : str or None
        At least one live annotation by this annotator group.
    text : str
        Case-insensitive substring of the instruction or either output.
    dataset : str or None
        The instruction's dataset.
    flagged : bool
        At least one live (not retracted) flag.
    disagreements : bool
        Humans and judges lean to different sides (mean preference of each kind, 1.5 = tie).
    ids : tuple of int or None
        Exactly these comparisons (e.g. a confusion-matrix cell); None: no restriction.
    """

    generators: tuple[str, ...] = ()
    group: str | None = None
    text: str = ""
    dataset: str | None = None
    flagged: bool = False
    disagreements: bool = False
    ids: tuple[int, ...] | None = None


_SIDES = """(SELECT a.comparison_id AS cid,
                   avg(CASE WHEN an.kind = 'human' THEN a.preference END) AS human_mean,
                   count(CASE WHEN an.kind = 'human' THEN a.preference END) AS n_human,
                   avg(CASE WHEN an.kind = 'judge' THEN a.preference END) AS judge_mean,
                   count(CASE WHEN an.kind = 'judge' THEN a.preference END) AS n_judge
            FROM annotations a JOIN annotators an ON an.id = a.annotator_id
            WHERE a.retracted_at IS NULL GROUP BY a.comparison_id)"""
_SIGN = "(CASE WHEN {m} > 1.5 THEN 1 WHEN {m} < 1.5 THEN -1 ELSE 0 END)"
_DISAGREE = (f"(s.n_human > 0 AND s.n_judge > 0 AND {_SIGN.format(m='s.human_mean')} "
             f"<> {_SIGN.format(m='s.judge_mean')})")  # fmt: skip


def _where(f: BrowseFilter) -> tuple[str, list[Any]]:
    where: list[str] = ["1=1"]
    args: list[Any] = []
    if f.generators:
        where.append(f"o2.generator IN ({', '.join('?' * len(f.generators))})")
        args.extend(f.generators)
    if f.group is not None:
        where.append("""EXISTS (SELECT 1 FROM annotations a JOIN annotators an ON an.id = a.annotator_id
                        WHERE a.comparison_id = c.id AND a.retracted_at IS NULL AND an.group_name = ?)""")
        args.append(f.group)
    if f.text.strip():
        where.append("""(instr(lower(ti.body), ?) OR instr(lower(t1.body), ?) OR instr(lower(t2.body), ?))""")
        args.extend([f.text.strip().lower()] * 3)
    if f.dataset is not None:
        where.append("i.dataset = ?")
        args.append(f.dataset)
    if f.flagged:
        where.append("EXISTS (SELECT 1 FROM flags fl WHERE fl.comparison_id = c.id AND fl.retracted_at IS NULL)")
    if f.disagreements:
        where.append(_DISAGREE)
    if f.ids is not None:  # one JSON parameter: no limit on the number of ids
        where.append("c.id IN (SELECT value FROM json_each(?))")
        args.append(json.dumps([int(i) for i in f.ids]))
    return " AND ".join(where), args


def list_rows(store: Store, f: BrowseFilter | None = None) -> list[dict[str, Any]]:
    """Comparisons under ``f`` in instruction order, one summary row each (the Browse table).

    Each row: comparison_id, instruction (first 200 characters), dataset, generator_1,
    generator_2, n_human, human_mean, n_judge, judge_mean, disagree (bool), n_flags, n_reviews.
    """
    where, args = _where(f or BrowseFilter())
    sql = f"""SELECT c.id AS comparison_id, substr(ti.body, 1, 200) AS instruction, i.dataset,
                     o1.generator AS generator_1, o2.generator AS generator_2,
                     coalesce(s.n_human, 0) AS n_human, s.human_mean, coalesce(s.n_judge, 0) AS n_judge,
                     s.judge_mean, coalesce({_DISAGREE}, 0) AS disagree,
                     (SELECT count(*) FROM flags fl WHERE fl.comparison_id = c.id AND fl.retracted_at IS NULL) AS n_flags,
                     (SELECT count(*) FROM review_actions r WHERE r.comparison_id = c.id AND r.retracted_at IS NULL
                        AND r.action IS NOT NULL) AS n_reviews
              FROM comparisons c JOIN instructions i ON i.id = c.instruction_id JOIN texts ti ON ti.id = i.text_id
              JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
              JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
              LEFT JOIN {_SIDES} s ON s.cid = c.id
              WHERE {where} {_ORDER}"""
    cur = store.conn.execute(sql, args)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r["disagree"] = bool(r["disagree"])
    return rows


def comparison_ids(store: Store, generators: Sequence[str] | None = None, group: str | None = None,
                   f: BrowseFilter | None = None) -> list[int]:  # fmt: skip
    """Comparison ids in instruction order, optionally filtered.

    Parameters
    ----------
    store : Store
        The database.
    generators : sequence of str, optional
        Keep comparisons whose candidate (output_2) is one of these generators.
    group : str, optional
        Keep comparisons with at least one live (not retracted) annotation by this annotator group.
    f : BrowseFilter, optional
        The other filters (its generators / group are overridden by the arguments when given).

    Returns
    -------
    list of int
        Ids in a stable order (instruction ordinal, then comparison id).
    """
    f = f or BrowseFilter()
    if generators:
        f = replace(f, generators=tuple(generators))
    if group is not None:
        f = replace(f, group=group)
    where, args = _where(f)
    texts = """JOIN texts ti ON ti.id = i.text_id JOIN outputs o1 ON o1.id = c.output_1_id
               JOIN texts t1 ON t1.id = o1.text_id JOIN texts t2 ON t2.id = o2.text_id"""
    sides = f"LEFT JOIN {_SIDES} s ON s.cid = c.id" if f.disagreements else ""
    sql = f"""SELECT c.id FROM comparisons c JOIN instructions i ON i.id = c.instruction_id
              JOIN outputs o2 ON o2.id = c.output_2_id {texts if f.text.strip() else ""} {sides}
              WHERE {where} {_ORDER}"""
    return [int(r[0]) for r in store.conn.execute(sql, args)]


def group_names(store: Store) -> list[str]:
    """Annotator group names (cheap: no annotation counts)."""
    rows = store.conn.execute("SELECT DISTINCT group_name FROM annotators WHERE group_name IS NOT NULL ORDER BY 1")
    return [str(r[0]) for r in rows]


def datasets(store: Store) -> list[str]:
    """Names of the datasets of the instructions (without NULL)."""
    rows = store.conn.execute("SELECT DISTINCT dataset FROM instructions WHERE dataset IS NOT NULL ORDER BY 1")
    return [str(r[0]) for r in rows]


def flags(store: Store, comparison_id: int) -> list[dict[str, Any]]:
    """Live flags of one comparison: annotator (name or None), note, created_at."""
    cur = store.conn.execute(
        """SELECT an.name AS annotator, fl.note, fl.created_at FROM flags fl
           LEFT JOIN annotators an ON an.id = fl.annotator_id
           WHERE fl.comparison_id = ? AND fl.retracted_at IS NULL ORDER BY fl.id""", (comparison_id,))
    return [dict(zip([d[0] for d in cur.description], r, strict=True)) for r in cur.fetchall()]


def review_actions(store: Store, comparison_id: int) -> list[dict[str, Any]]:
    """Live, decided review actions of one comparison: reviewer, judge_group, action, final_preference, reason."""
    cur = store.conn.execute(
        """SELECT an.name AS reviewer, r.judge_group, r.judge_preference, r.action, r.final_preference,
                  coalesce(r.reason_text, r.reason) AS reason, r.acted_at
           FROM review_actions r JOIN annotators an ON an.id = r.annotator_id
           WHERE r.comparison_id = ? AND r.retracted_at IS NULL AND r.action IS NOT NULL ORDER BY r.id""",
        (comparison_id,))
    return [dict(zip([d[0] for d in cur.description], r, strict=True)) for r in cur.fetchall()]


def verdicts(store: Store, comparison_id: int) -> list[dict[str, Any]]:
    """Live annotations of one comparison (judges first, then humans), oldest first within a kind.

    Each row: annotation_id, annotator (name), group, kind, source, preference (canonical),
    raw_choice, swapped, seed, rationale, raw_completion, created_at.
    """
    cur = store.conn.execute(
        """SELECT a.id AS annotation_id, an.name AS annotator, an.group_name AS "group", an.kind,
                  a.source, a.preference, a.raw_choice, a.swapped, a.seed, a.rationale,
                  a.raw_completion, a.created_at
           FROM annotations a JOIN annotators an ON an.id = a.annotator_id
           WHERE a.comparison_id = ? AND a.retracted_at IS NULL
           ORDER BY an.kind = 'human', an.group_name, a.id""",
        (comparison_id,),
    )
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
