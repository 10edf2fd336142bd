"""A database with models, a judge and two human annotators of group "humans" (leaderboard tests)."""

from __future__ import annotations

import random
from pathlib import Path

from tiebreak.core.store import Store

__all__ = ["add_humans"]


def add_humans(path: Path, n: int = 80, seed: int = 7) -> None:
    """Give two humans (group "humans") a label with seconds on the first ``n`` comparisons.

    Each human mostly agrees with the judge's rounded verdict, so agreement is high but not 1.
    """
    rng = random.Random(seed)
    store = Store(path)
    try:
        rows = store.conn.execute(
            "SELECT comparison_id, preference FROM annotations ORDER BY comparison_id LIMIT ?", (n,)
        ).fetchall()
        with store.transaction() as tx:
            ids = [tx.annotator_id(name, "human", group="humans", member=name) for name in ("ann", "bob")]
            for cid, pref in rows:
                judge_side = 1.0 if (pref or 1.5) < 1.5 else 2.0
                for aid in ids:
                    p = judge_side if rng.random() < 0.75 else 3.0 - judge_side
                    tx.add_annotation(comparison_id=cid, annotator_id=aid, preference=p,
                                      seconds=20.0 + rng.random() * 10)
    finally:
        store.close()
