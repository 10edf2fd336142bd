"""What the "who is labelling?" form offers: annotators, datasets, references and candidates."""

from __future__ import annotations

from tiebreak.core.labelling import sql as q
from tiebreak.core.store import Store

__all__ = ["StartChoices", "candidates", "start_choices"]


class StartChoices:
    """The lists of the start form, read once (annotators, datasets, reference models)."""

    def __init__(self, annotators: list[str], datasets: list[str], references: list[str]) -> None:
        self.annotators, self.datasets, self.references = annotators, datasets, references


def start_choices(store: Store) -> StartChoices:
    """Human annotators, dataset categories and reference models of the database."""
    return StartChoices(q.human_annotators(store), q.datasets(store), q.references(store))


def candidates(store: Store, reference: str) -> list[str]:
    """Models compared with ``reference`` (the candidates a labeller may choose)."""
    return q.candidates(store, reference)
