"""A database with three datasets, three judge groups and a three-person crowd (Human-vs-judge tests).

Every label is drawn here and returned, so a test can compute what the dashboard must show
(confusion cells, datasets, calibration bins) without Tiebreak's code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from tiebreak.core.store import Store

__all__ = ["HUMANS", "JUDGES", "Labels", "category", "several_judges_db"]

HUMANS = "crowd"
JUDGES = ("judge-careful", "judge-verbose", "judge-coin")
DATASETS = ("helpful_base", "koala", "selfinstruct")
REFERENCE, CANDIDATES = "ref-model", ("cand-a", "cand-b")


@dataclass
class Labels:
    """What was inserted: per comparison the dataset, the crowd's labels and each judge's labels."""

    dataset: dict[int, str] = field(default_factory=dict)
    humans: dict[int, list[float]] = field(default_factory=dict)
    judges: dict[str, dict[int, list[float]]] = field(default_factory=lambda: {j: {} for j in JUDGES})


def category(preference: float) -> int:
    """0: output_1 is better, 1: tie, 2: output_2 is better (the side a preference leans to)."""
    return 0 if preference < 1.5 else 2 if preference > 1.5 else 1


def _judge(rng: random.Random, name: str, truth: float) -> list[float]:
    """Seeded verdicts of one judge (two seeds for the careful one; soft probabilities)."""
    if name == "judge-coin":
        return [rng.choice([1.0, 1.5, 2.0])]
    lean = 0.85 if name == "judge-careful" else 0.6
    side = truth if truth != 1.5 and rng.random() < lean else rng.choice([1.0, 2.0])
    if name == "judge-verbose" and rng.random() < 0.3:
        side = 2.0  # likes the candidate (the longer output)
    soft = 1.0 + (0.8 if side == 2.0 else 0.2) + rng.uniform(-0.15, 0.15)
    return [soft, side] if name == "judge-careful" else [soft]


def several_judges_db(path: Path, n_instructions: int = 45, seed: int = 11) -> Labels:
    """Create the database at ``path``; return every label inserted.

    The crowd (three humans) labels the first two thirds of the comparisons; two of its three
    labels always agree, so its majority is that label. judge-coin skips every fifth comparison.
    """
    rng, out = random.Random(seed), Labels()
    store = Store(path, create=True)
    try:
        with store.transaction() as tx:
            humans = [tx.annotator_id(n, "human", group=HUMANS, member=n) for n in ("ann", "bob", "cy")]
            judges = {j: tx.annotator_id(j, "judge") for j in JUDGES}
            for i in range(n_instructions):
                ds = DATASETS[i % len(DATASETS)]
                ins = tx.instruction_id(f"Instruction {i}: write about topic {i}.", dataset=ds)
                ref = tx.output_id(ins, REFERENCE, f"Reference answer {i}.")
                for k, g in enumerate(CANDIDATES):
                    cid = tx.comparison_id(ins, ref, tx.output_id(ins, g, f"Answer {i} by {g}. " * (k + 2)))
                    out.dataset[cid] = ds
                    truth = rng.choice([1.0, 1.0, 1.5, 2.0, 2.0, 2.0])
                    if len(out.dataset) <= 2 * n_instructions * len(CANDIDATES) // 3:
                        labels = [truth, truth, rng.choice([1.0, 1.5, 2.0])]
                        rng.shuffle(labels)
                        out.humans[cid] = labels
                        for aid, p in zip(humans, labels, strict=True):
                            tx.add_annotation(comparison_id=cid, annotator_id=aid, preference=p, seconds=30.0)
                    for name, aid in judges.items():
                        if name == "judge-coin" and len(out.dataset) % 5 == 0:
                            continue
                        verdicts = _judge(rng, name, truth)
                        out.judges[name][cid] = verdicts
                        for s, p in enumerate(verdicts):
                            tx.add_annotation(comparison_id=cid, annotator_id=aid, source="judge", preference=p,
                                              seed=s, swapped=s % 2)  # fmt: skip
    finally:
        store.close()
    return out
