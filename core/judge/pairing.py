"""Pair two generators' outputs on the same instruction (AlpacaEval orientation: output_1 = reference)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tiebreak.core.errors import TiebreakError
from tiebreak.core.store import Store

__all__ = ["PairingError", "ScopeError", "Pairing", "pair_generators", "check_scope"]


class PairingError(TiebreakError):
    """The outputs cannot be paired (a generator has disagreeing outputs for one instruction)."""


class ScopeError(TiebreakError):
    """A judge scope that matches no comparison (the message lists what exists)."""


@dataclass
class Pairing:
    """What pairing did: comparisons created / already there, instructions on one side only."""

    reference: str
    generator: str
    created: int = 0
    existing: int = 0
    only_reference: list[str] = field(default_factory=list)
    only_generator: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One or more lines for the CLI."""
        lines = [f"paired {self.generator} with reference {self.reference}: {self.created} new "
                 f"comparison(s), {self.existing} already there"]  # fmt: skip
        for who, items in ((self.reference, self.only_reference), (self.generator, self.only_generator)):
            if items:
                shown = "; ".join(repr(_short(t)) for t in items[:3])
                lines.append(f"  {len(items)} instruction(s) only in {who}'s outputs (not paired): {shown}"
                             + (" ..." if len(items) > 3 else ""))  # fmt: skip
        return "\n".join(lines)


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


_OUTPUTS_SQL = """
    SELECT o.id, o.instruction_id, o.text_id, ti.body FROM outputs o
    JOIN instructions i ON i.id = o.instruction_id JOIN texts ti ON ti.id = i.text_id
    WHERE o.generator = ? ORDER BY o.instruction_id, o.id
"""


def _outputs(store: Store, generator: str) -> tuple[dict[int, int], dict[int, str]]:
    """{instruction id: output id} of one generator and the instruction texts.

    Raises
    ------
    PairingError
        When the generator has two different outputs for one instruction.
    """
    by_instruction: dict[int, set[tuple[int, int]]] = {}
    texts: dict[int, str] = {}
    for output_id, instruction_id, text_id, body in store.conn.execute(_OUTPUTS_SQL, (generator,)):
        by_instruction.setdefault(instruction_id, set()).add((output_id, text_id))
        texts[instruction_id] = body
    clashes = [i for i, outs in by_instruction.items() if len({t for _, t in outs}) > 1]
    if clashes:
        shown = "; ".join(repr(_short(texts[i])) for i in clashes[:3])
        raise PairingError(f"generator {generator!r} has different outputs for the same instruction "
                           f"({len(clashes)} instruction(s), e.g. {shown}); remove the duplicates before "
                           "pairing")  # fmt: skip
    return {i: min(o for o, _ in outs) for i, outs in by_instruction.items()}, texts


def pair_generators(store: Store, reference: str, generator: str) -> Pairing:
    """Create the missing comparisons (reference as output_1) on the instructions both answered.

    Nothing is written when a generator's outputs disagree (one transaction).

    Raises
    ------
    PairingError
        Duplicates that disagree, or reference == generator.
    """
    if reference == generator:
        raise PairingError(f"cannot pair {generator!r} with itself")
    ref, ref_texts = _outputs(store, reference)
    gen, gen_texts = _outputs(store, generator)
    report = Pairing(reference, generator)
    report.only_reference = [ref_texts[i] for i in ref if i not in gen]
    report.only_generator = [gen_texts[i] for i in gen if i not in ref]
    both = [i for i in ref if i in gen]
    existing = {(int(a), int(b)) for a, b in store.conn.execute(
        "SELECT c.output_1_id, c.output_2_id FROM comparisons c JOIN outputs o1 ON o1.id = c.output_1_id "
        "JOIN outputs o2 ON o2.id = c.output_2_id WHERE o1.generator = ? AND o2.generator = ?",
        (reference, generator))}  # fmt: skip
    with store.transaction() as tx:
        for instruction_id in both:
            if (ref[instruction_id], gen[instruction_id]) in existing:
                report.existing += 1
                continue
            tx.comparison_id(instruction_id, ref[instruction_id], gen[instruction_id])
            report.created += 1
    return report


def check_scope(store: Store, reference: str | None, generators: list[str], n_candidates: int,
                labelled_by: str | None = None) -> None:  # fmt: skip
    """Raise :class:`ScopeError` when a judge scope matches no comparison, listing what exists."""
    if n_candidates > 0:
        return
    gens = store.generators()
    rows = store.conn.execute("SELECT group_name, kind, count(*) FROM annotators GROUP BY 1, 2 ORDER BY 1").fetchall()
    annotators = ", ".join(f"{g} ({k}{f', {n} members' if n > 1 else ''})" for g, k, n in rows[:20]) or "none"
    annotators += f" and {len(rows) - 20} more" if len(rows) > 20 else ""
    pairs = store.conn.execute(
        "SELECT o1.generator, o2.generator, count(*) FROM comparisons c JOIN outputs o1 ON o1.id = c.output_1_id "
        "JOIN outputs o2 ON o2.id = c.output_2_id GROUP BY 1, 2 ORDER BY 1, 2").fetchall()  # fmt: skip
    scope = f"reference {reference or 'any'}, generator(s) {', '.join(generators) or 'any'}"
    if labelled_by:
        scope += f", labelled by {labelled_by}"
    existing = ", ".join(f"{a} vs {b} ({n})" for a, b, n in pairs) or "none"
    raise ScopeError(f"no comparison matches {scope}. Generators: {', '.join(gens) or 'none'}. "
                     f"Comparisons (reference vs generator): {existing}. Annotators: {annotators}. "
                     "Pair two generators with --reference R --generator G.")  # fmt: skip
