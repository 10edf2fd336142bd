"""Small labelling databases built with the Store API (shared by core and gui labelling tests)."""

from __future__ import annotations

from tiebreak.core.store import Store

REFERENCE = "ref-model"
CANDIDATES = ("cand-a", "cand-b")


def fill_store(
    store: Store,
    n_instructions: int = 4,
    *,
    candidates: tuple[str, ...] = CANDIDATES,
    judge: str | None = "judge-x",
    outputs: dict[tuple[int, str], str] | None = None,
) -> list[int]:
    """Add ``n_instructions`` x ``candidates`` comparisons against REFERENCE; return their ids.

    A judge group (if named) gets a verdict on every comparison (candidate wins on even ids).
    ``outputs`` overrides the text of (instruction index, generator) outputs.
    """
    outputs = outputs or {}
    ids = []
    with store.transaction() as tx:
        judge_id = tx.annotator_id(judge, "judge") if judge else None
        for i in range(n_instructions):
            ins = tx.instruction_id(f"Instruction {i}: explain topic {i}.", dataset="helpful_base")
            ref = tx.output_id(ins, REFERENCE, outputs.get((i, REFERENCE), f"Reference answer {i}."))
            for k, g in enumerate(candidates):
                text = outputs.get((i, g), f"**Answer** {i}, variant {k}.\n\n```python\nprint({i})\n```")
                cid = tx.comparison_id(ins, ref, tx.output_id(ins, g, text))
                ids.append(cid)
                if judge_id is not None:
                    tx.add_annotation(comparison_id=cid, annotator_id=judge_id, source="judge",
                                         preference=2.0 if cid % 2 == 0 else 1.0)
    return ids
