"""Comparisons with a known longer output, for judge tests and the judge benchmark."""

from __future__ import annotations

from tiebreak.core.store import Store


def add_comparisons(store: Store, n: int, *, reference: str = "ref", generator: str = "model",
                    prefix: str = "Instruction") -> list[int]:  # fmt: skip
    """Add ``n`` comparisons whose outputs differ in length (longer alternates between sides).

    Returns the comparison ids; the canonical preference of a longer-preferring judge is
    2 when output_2 is longer, else 1 (see :func:`expected_preference`).
    """
    ids = []
    with store.transaction() as tx:
        for i in range(n):
            iid = tx.instruction_id(f"{prefix} {i}: explain item {i}.")
            short, long = f"Short {i}.", f"A much longer answer for item {i}, with detail."
            out_1, out_2 = (short, long) if i % 2 == 0 else (long, short)
            a = tx.output_id(iid, reference, out_1)
            b = tx.output_id(iid, generator, out_2)
            ids.append(tx.comparison_id(iid, a, b))
    return ids


def expected_preference(store: Store, comparison_id: int) -> float:
    """Canonical preference of the rule 'the longer output wins'."""
    pair = store.pair(comparison_id)
    return 2.0 if len(pair.output_2) > len(pair.output_1) else 1.0
