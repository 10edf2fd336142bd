"""SQL of the Browse screen: comparison ids under a filter, candidate generators, verdicts of one item."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tiebreak.core.store import Store

__all__ = ["candidate_generators", "comparison_ids", "verdicts"]

_ORDER = "ORDER BY coalesce(i.ordinal, i.id), i.id, c.id"


def candidate_generators(store: Store) -> list[str]:
    """Names of the generators that appear as output_2 (the candidate) of some comparison."""
    rows = store.conn.execute(
        """SELECT DISTINCT o.generator FROM comparisons c JOIN outputs o ON o.id = c.output_2_id
           ORDER BY o.generator"""
    ).fetchall()
    return [str(r[0]) for r in rows]


def comparison_ids(store: Store, generators: Sequence[str] | None = None, group: str | None = None) -> list[int]:
    """Comparison ids in instruction order, optionally filtered.

    Parameters
    ----------
    store : Store
        The database.
    generators : sequence of str, optional
        Keep comparisons whose candidate (output_2) is one of these generators.
    group : str, optional
        Keep comparisons with at least one live (not retracted) annotation by this annotator group.

    Returns
    -------
    list of int
        Ids in a stable order (instruction ordinal, then comparison id).
    """
    where = ["1=1"]
    args: list[str] = []
    if generators:
        where.append(f"o2.generator IN ({', '.join('?' * len(generators))})")
        args.extend(generators)
    if group is not None:
        where.append("""EXISTS (SELECT 1 FROM annotations a JOIN annotators an ON an.id = a.annotator_id
                        WHERE a.comparison_id = c.id AND a.retracted_at IS NULL AND an.group_name = ?)""")
        args.append(group)
    sql = f"""SELECT c.id FROM comparisons c JOIN instructions i ON i.id = c.instruction_id
              JOIN outputs o2 ON o2.id = c.output_2_id WHERE {' AND '.join(where)} {_ORDER}"""
    return [int(r[0]) for r in store.conn.execute(sql, args)]


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
