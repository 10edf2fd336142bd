"""What the Review form offers and does before reviewing: judges, streams, filters, ad-hoc picks."""

from __future__ import annotations

from pathlib import Path

from tiebreak.core.review import sql as rs
from tiebreak.core.review.audit import default_audit_group
from tiebreak.core.review.queue import QueueFilter, filter_queue, judge_verdicts
from tiebreak.core.review.session import add_adhoc_items
from tiebreak.core.store import Store

__all__ = ["FormChoices", "add_most_uncertain", "audit_streams", "form_choices", "form_choices_at"]


class FormChoices:
    """Judge groups, candidate models and dataset categories of the database."""

    def __init__(self, judges: list[str], models: list[str], datasets: list[str]) -> None:
        self.judges, self.models, self.datasets = judges, models, datasets


def form_choices(store: Store) -> FormChoices:
    """The lists of the Review form."""
    judges = [g["group"] for g in store.groups() if g["kind"] == "judge"]
    return FormChoices(judges, store.generators(), rs.datasets(store))


def form_choices_at(path: str | Path) -> FormChoices:
    """:func:`form_choices` on a connection of its own to ``path`` (for a background thread)."""
    from tiebreak.core.sample import open_database

    store = open_database(path)
    try:
        return form_choices(store)
    finally:
        store.close()


def audit_streams(store: Store, judge: str) -> list[str]:
    """Audit streams of ``judge``: its default stream first, then the others in creation order."""
    streams = [a["audit_group"] for a in rs.audit_groups(store) if a["judge_group"] == judge]
    default = default_audit_group(judge) if judge else ""
    return list(dict.fromkeys([default, *streams]))


def add_most_uncertain(store: Store, judge: str, flt: QueueFilter, n: int, audit_group: str | None = None) -> int:
    """Queue the ``n`` most uncertain verdicts of ``judge`` passing ``flt`` in the ad-hoc stream.

    Returns
    -------
    int
        How many items are queued (items already in the stream count once).
    """
    ann = store.annotations_frame(groups=[judge], with_texts=False)
    rows = filter_queue(judge_verdicts(ann).verdicts, flt).head(n)
    return add_adhoc_items(store, judge, rows["comparison_id"], flt.describe(), audit_group)
