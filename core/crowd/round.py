"""Crowd rounds: content keys, the item filter, balanced assignment with overlap, and round creation."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from tiebreak.core.errors import TiebreakError
from tiebreak.core.store import Store, utcnow

__all__ = [
    "RoundError", "ItemFilter", "Created", "item_key", "parse_filter", "balanced_assignment",
    "create_round", "round_row", "DEFAULT_REPEATS", "DEFAULT_IDENTICAL",
]  # fmt: skip

#: Swapped repeats of earlier items per annotator (self-consistency) and identical-output checks.
DEFAULT_REPEATS = 3
DEFAULT_IDENTICAL = 2


class RoundError(TiebreakError, ValueError):
    """A round cannot be created, found or changed as asked (the message names what and where)."""


def item_key(instruction: str, output_1: str, output_2: str) -> str:
    """Content identity of a shown pair across databases: sha256 of instruction and both outputs.

    The order matters: a pair shown mirrored (output_2 first) has another key.
    """
    h = hashlib.sha256()
    for part in (instruction, output_1, output_2):
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:40]


@dataclass(frozen=True)
class ItemFilter:
    """Which comparisons a round takes: ``reference=R,generator=A|B,dataset=D,limit=N``."""

    reference: str | None = None
    generators: tuple[str, ...] = ()
    dataset: str | None = None
    limit: int | None = None

    def text(self) -> str:
        """The filter written back in its own syntax (stored with the round)."""
        parts = [f"reference={self.reference}"] if self.reference else []
        parts += [f"generator={'|'.join(self.generators)}"] if self.generators else []
        parts += [f"dataset={self.dataset}"] if self.dataset else []
        parts += [f"limit={self.limit}"] if self.limit is not None else []
        return ",".join(parts)


def parse_filter(text: str | None) -> ItemFilter:
    """Parse ``--items``: comma-separated ``key=value`` with keys reference, generator, dataset, limit.

    Raises
    ------
    RoundError
        An unknown key, a missing ``=`` or a limit that is not a positive integer.
    """
    if not text:
        return ItemFilter()
    values: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise RoundError(f"--items: {part!r} is not key=value (keys: reference, generator, dataset, limit)")
        if key == "generator":
            values["generators"] = tuple(v for v in value.split("|") if v)
        elif key == "limit":
            if not value.isdigit() or int(value) < 1:
                raise RoundError(f"--items: limit must be a positive integer, got {value!r}")
            values["limit"] = int(value)
        elif key in ("reference", "dataset"):
            values[key] = value
        else:
            raise RoundError(f"--items: unknown key {key!r} (keys: reference, generator, dataset, limit)")
    return ItemFilter(**values)


def balanced_assignment(n_items: int, workers: Sequence[str], overlap: int, seed: int = 0) -> list[list[str]]:
    """Workers per item: each item gets ``overlap`` distinct workers, loads differ by at most one.

    Item i takes the workers at positions ``(i * K + j) mod n`` (j < K) of a seeded shuffle of
    the workers: K consecutive positions are distinct when K <= n, and the positions run through
    the workers evenly, so every load is floor or ceil of ``n_items * K / n``.
    """
    names = list(dict.fromkeys(workers))
    if len(names) != len(workers):
        raise RoundError("--annotators: a name is given twice")
    if not 1 <= overlap <= len(names):
        raise RoundError(f"--overlap must be between 1 and the number of annotators ({len(names)}), got {overlap}")
    random.Random(seed).shuffle(names)
    n = len(names)
    return [[names[(i * overlap + j) % n] for j in range(overlap)] for i in range(n_items)]


@dataclass
class Created:
    """What ``create_round`` made: the round id, its items and the pack written per annotator."""

    round_id: int
    n_items: int
    n_gold: int
    packs: dict[str, Path] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)


def round_row(store: Store, name: str) -> dict[str, Any]:
    """The round called ``name`` (id, name, overlap, group_name, guidelines, seed); RoundError if absent."""
    cur = store.conn.execute(
        "SELECT id, name, overlap, group_name, guidelines, seed, items_filter FROM crowd_rounds WHERE name = ?",
        (name,),
    )
    row = cur.fetchone()
    if row is None:
        known = [r[0] for r in store.conn.execute("SELECT name FROM crowd_rounds ORDER BY id")]
        raise RoundError(f"unknown round {name!r} (known: {', '.join(known) or 'none'})")
    return dict(zip([d[0] for d in cur.description], row, strict=True))


_ITEMS_SQL = """
    SELECT c.id, ti.body, t1.body, t2.body FROM comparisons c
    JOIN instructions i ON i.id = c.instruction_id JOIN texts ti ON ti.id = i.text_id
    JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
    JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
    WHERE o1.id != o2.id {where} ORDER BY c.id
"""


def select_items(store: Store, flt: ItemFilter, exclude: set[int] | frozenset[int] = frozenset()) -> list[tuple[int, str]]:
    """(comparison_id, item_key) of the comparisons the filter selects, in id order."""
    where, args = [], []
    if flt.reference:
        where.append("AND o1.generator = ?")
        args.append(flt.reference)
    if flt.generators:
        where.append(f"AND o2.generator IN ({', '.join('?' * len(flt.generators))})")
        args.extend(flt.generators)
    if flt.dataset:
        where.append("AND i.dataset = ?")
        args.append(flt.dataset)
    rows = store.conn.execute(_ITEMS_SQL.format(where=" ".join(where)), args).fetchall()
    items = [(int(cid), item_key(ins, o1, o2)) for cid, ins, o1, o2 in rows if cid not in exclude]
    if flt.limit is not None:
        items = items[: flt.limit]
    if not items:
        raise RoundError(f"--items {flt.text() or '(all)'}: no comparison in the database matches")
    return items


def create_round(
    store: Store, name: str, workers: Sequence[str], overlap: int, out_dir: str | Path, *,
    items: str | None = None, gold_file: str | Path | None = None, group: str = "humans",
    guidelines: str | None = None, repeats: int = DEFAULT_REPEATS, identical: int = DEFAULT_IDENTICAL,
    seed: int = 0,
) -> Created:  # fmt: skip
    """Create the round in the database and write one pack per annotator into ``out_dir``.

    Parameters
    ----------
    store : Store
        The coordinator's database.
    name : str
        Round name (unique).
    workers : sequence of str
        Annotator names; each becomes a human annotator of ``group`` (member = the name).
    overlap : int
        Labels wanted per item (K); each item goes to K distinct annotators.
    out_dir : path
        Folder for the packs (``<round>-<annotator>.tiebreak``); created if needed.
    items : str, optional
        Item filter (see :func:`parse_filter`); default every comparison.
    gold_file : path, optional
        Known-answer pairs (see :func:`tiebreak.core.crowd.gold.read_gold`), given to everyone.
    repeats, identical : int
        Per annotator: swapped repeats of their own items, and identical-output checks.

    Raises
    ------
    RoundError
        Bad name, overlap, filter, gold file or an existing round / pack file; nothing is written.
    """
    from tiebreak.core.crowd import gold as gold_mod
    from tiebreak.core.crowd import pack as pack_mod

    _check_args(store, name, workers, repeats, identical)
    flt = parse_filter(items)
    gold = gold_mod.read_gold(gold_file) if gold_file else []
    out = Path(out_dir)
    targets = {w: out / pack_mod.pack_name(name, w, 1) for w in workers}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing:
        raise RoundError(f"pack file(s) already exist: {', '.join(existing)}")
    try:
        with store.transaction() as tx:
            return _build(tx, name, workers, overlap, flt, gold, targets, group, guidelines, repeats, identical, seed)
    except BaseException:
        for path in targets.values():  # the database rolled back: take the packs back too
            path.unlink(missing_ok=True)
        raise


def _check_args(store: Store, name: str, workers: Sequence[str], repeats: int, identical: int) -> None:
    """RoundError for a bad or taken name, empty annotator names or negative check counts."""
    if not name.strip() or "/" in name:
        raise RoundError(f"round name {name!r} must be non-empty and contain no '/'")
    if store.conn.execute("SELECT 1 FROM crowd_rounds WHERE name = ?", (name,)).fetchone():
        raise RoundError(f"a round called {name!r} already exists")
    if not workers or any(not w.strip() for w in workers):
        raise RoundError("--annotators: give at least one non-empty name")
    if repeats < 0 or identical < 0:
        raise RoundError("--repeats and --identical must not be negative")


def _build(
    tx: Any, name: str, workers: Sequence[str], overlap: int, flt: ItemFilter, gold: list[Any],
    targets: dict[str, Path], group: str, guidelines: str | None, repeats: int, identical: int, seed: int,
) -> Created:  # fmt: skip
    """The body of :func:`create_round`, inside its transaction."""
    from tiebreak.core.crowd import gold as gold_mod
    from tiebreak.core.crowd import pack as pack_mod

    store = tx.store
    gold_items = gold_mod.add_gold(tx, gold)
    chosen = select_items(store, flt, exclude={cid for cid, _, _ in gold_items})
    per_item = balanced_assignment(len(chosen), workers, overlap, seed)
    cur = tx.execute(
        "INSERT INTO crowd_rounds (name, overlap, group_name, items_filter, guidelines, seed, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (name, overlap, group, flt.text(), guidelines, seed, utcnow()),
    )
    round_id = int(cur.lastrowid)
    tx.executemany(
        "INSERT INTO crowd_items (round_id, item_key, comparison_id, kind, expected) VALUES (?, ?, ?, ?, ?)",
        [(round_id, key, cid, "item", None) for cid, key in chosen]
        + [(round_id, key, cid, "gold", exp) for cid, key, exp in gold_items],
    )
    ids = dict(store.conn.execute("SELECT item_key, id FROM crowd_items WHERE round_id = ?", (round_id,)))
    mine: dict[str, list[tuple[int, str]]] = {w: [] for w in workers}
    for (cid, key), names in zip(chosen, per_item, strict=True):
        for w in names:
            mine[w].append((cid, key))
    created = Created(round_id, len(chosen), len(gold_items))

    def recorded() -> Iterator[Any]:  # each pack recorded here while the ones before are written
        for w in workers:
            tx.annotator_id(w, "human", group=group, member=w)
            tx.execute(
                "INSERT INTO crowd_workers (round_id, annotator_id) SELECT ?, id FROM annotators WHERE name = ?",
                (round_id, w),
            )
            plan = plan_pack(mine[w], [(c, k) for c, k, _ in gold_items], w, seed, repeats, identical)
            created.packs[w], created.loads[w] = targets[w], len(mine[w])
            yield pack_mod.record_pack(tx, round_id, w, plan, ids, targets[w])

    pack_mod.write_packs(store, recorded())  # the transaction is still open
    return created


class PlanItem(NamedTuple):
    """One entry of a pack: the comparison, its key, kind, whether its outputs are mirrored, side.

    A named tuple (immutable, cheap to make: a round builds one per assignment).
    """

    comparison_id: int
    key: str
    kind: str
    swapped: bool
    mirrored: bool = False


def plan_pack(
    items: list[tuple[int, str]], gold: list[tuple[int, str]], worker: str, seed: int,
    repeats: int, identical: int,
) -> list[PlanItem]:  # fmt: skip
    """The order of one pack: items and gold shuffled together, then checks placed after their source.

    A swapped repeat shows an earlier item again with the outputs mirrored and the same screen
    orientation, so the texts change sides; it is placed at least a few items after its original.
    An identical-output check shows the reference output on both sides (expected: a tie).
    """
    rng = random.Random(f"{seed}:{worker}")
    base = [PlanItem(c, k, "item", rng.random() < 0.5) for c, k in items]
    base += [PlanItem(c, k, "gold", rng.random() < 0.5) for c, k in gold]
    rng.shuffle(base)
    plain = [p for p in base if p.kind == "item"]
    picks = rng.sample(range(len(plain)), min(repeats, len(plain)))
    checks = [(plain[i], PlanItem(plain[i].comparison_id, plain[i].key, "repeat", plain[i].swapped, mirrored=True))
              for i in picks]  # fmt: skip
    taken = set(picks)
    src = [p for i, p in enumerate(plain) if i not in taken] or plain
    checks += [(p, PlanItem(p.comparison_id, p.key, "identical", False)) for p in rng.sample(src, min(identical, len(src)))]
    where = {id(p): n for n, p in enumerate(base)}
    inserts = []
    for source, check in checks:  # at least three items after the source (or at the end)
        after = where[id(source)] + 1
        inserts.append((rng.randint(min(after + 3, len(base)), len(base)), check))
    for pos, check in sorted(inserts, key=lambda t: -t[0]):
        base.insert(pos, check)
    return base
