"""Which labels an analysis uses: excluded workers, gold items left out, N labels kept per item."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tiebreak.core.store import Store, UnknownName

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PER_ITEM_RULE", "excluded_workers", "drop_workers", "gold_comparisons", "keep_per_item", "annotation_ids_of",
]  # fmt: skip

#: The documented rule of :func:`keep_per_item`.
PER_ITEM_RULE = (
    "per comparison, the N labels whose sha256(instruction, output_1, output_2, annotator name) is "
    "smallest are kept: deterministic, independent of label order and database, and not biased "
    "towards any annotator"
)


def excluded_workers(store: Store, names: Sequence[str] | None) -> set[str]:
    """Annotator names to leave out: ``names`` (checked) plus workers excluded in any crowd round.

    Raises
    ------
    UnknownName
        A name that is no annotator (name or member) of the database.
    """
    known = {r[0] for r in store.conn.execute("SELECT name FROM annotators")}
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise UnknownName(f"--exclude: unknown annotator(s) {', '.join(unknown)} (known: {', '.join(sorted(known)) or 'none'})")
    stored = {r[0] for r in store.conn.execute(
        "SELECT a.name FROM crowd_workers w JOIN annotators a ON a.id = w.annotator_id WHERE w.excluded_at IS NOT NULL"
    )}  # fmt: skip
    return set(names or ()) | stored


def drop_workers(frame: pd.DataFrame, names: set[str]) -> pd.DataFrame:
    """``frame`` without the rows of the named annotators (column ``annotator_name``)."""
    if not names:
        return frame
    return frame[~frame["annotator_name"].isin(names)]


def gold_comparisons(store: Store) -> set[int]:
    """Comparisons used as gold (known-answer) items in any crowd round."""
    return {r[0] for r in store.conn.execute("SELECT comparison_id FROM crowd_items WHERE kind = 'gold'")}


def _rank_key(row: Any) -> str:
    h = hashlib.sha256()
    for part in (row.instruction, row.output_1, row.output_2, row.annotator_name):
        h.update(str(part).encode("utf-8", "surrogatepass") + b"\x1f")
    return h.hexdigest()


def keep_per_item(frame: pd.DataFrame, group: str, n: int) -> tuple[pd.DataFrame, int]:
    """Keep at most ``n`` labels of ``group`` per comparison (see :data:`PER_ITEM_RULE`).

    Rows of other groups are untouched. Returns the frame and the number of labels dropped.
    """
    mine = frame["annotator"] == group
    rows = frame[mine]
    ranks = [_rank_key(r) for r in rows.itertuples(index=False)]
    order = rows.assign(_rank=ranks).sort_values(["comparison_id", "_rank"], kind="stable")
    kept = order[order.groupby("comparison_id").cumcount() < n].drop(columns="_rank")
    import pandas as pd

    out = pd.concat([frame[~mine], kept]).sort_index()
    return out, int(len(rows) - len(kept))


def annotation_ids_of(store: Store, names: set[str]) -> set[int]:
    """Ids of every annotation written by the named annotators (to filter frames without names)."""
    if not names:
        return set()
    marks = ", ".join("?" * len(names))
    return {r[0] for r in store.conn.execute(
        f"SELECT a.id FROM annotations a JOIN annotators an ON an.id = a.annotator_id WHERE an.name IN ({marks})",
        sorted(names),
    )}  # fmt: skip
