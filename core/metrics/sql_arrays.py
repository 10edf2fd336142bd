"""SQL reads of the annotation rows as numpy arrays for the pandas-free LC path (integers packed per row).

Python's sqlite3 pays per value it hands over, so the per-row integers (instruction, both
outputs, annotator, the candidate output's length) are packed into as few 63-bit integers as
their id ranges allow and unpacked by numpy; generators and output lengths of the reference
outputs are read once per output, never per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tiebreak.core.metrics import MetricsError
from tiebreak.core.store import Store

__all__ = ["LcRows", "lc_rows", "generator_codes", "output_lengths", "annotator_groups", "first_order_codes"]

#: SQLite's longest string or blob (SQLITE_MAX_LENGTH, 10^9) fits in 30 bits: a text length always does.
_LENGTH_BITS = 30
_WORD_BITS = 63
_FIELDS = (  # (name, SQL expression, table whose id range bounds it; None: a text length)
    ("instruction", "c.instruction_id", "instructions"),
    ("output_1", "c.output_1_id", "outputs"),
    ("output_2", "c.output_2_id", "outputs"),
    ("annotator", "a.annotator_id", "annotators"),
    ("length_2", "t2.length", None),
)


@dataclass(frozen=True)
class LcRows:
    """The live annotation rows of a selection, in annotation id order (one array entry per row)."""

    instruction: np.ndarray
    output_1: np.ndarray
    output_2: np.ndarray
    annotator: np.ndarray
    length_2: np.ndarray
    preference: np.ndarray  # NaN where null

    def __len__(self) -> int:
        return len(self.preference)


def _bits(store: Store, table: str | None) -> int | None:
    """Bits that hold every id of ``table`` (None: some id is negative or the range is too wide)."""
    if table is None:
        return _LENGTH_BITS
    # two scalar subqueries: each is one B-tree seek (min and max in one SELECT would scan the table)
    low, high = store.conn.execute(f"SELECT (SELECT min(id) FROM {table}), (SELECT max(id) FROM {table})").fetchone()
    if low is None:
        return 1
    return None if low < 0 or high >= 1 << 62 else max(int(high).bit_length(), 1)


def _layout(store: Store) -> list[list[tuple[str, str, int, int]]]:
    """Words of (name, expression, shift, bits): fields packed greedily into 63-bit integers."""
    words: list[list[tuple[str, str, int, int]]] = []
    used: list[int] = []
    for name, expr, table in _FIELDS:
        bits = _bits(store, table)
        if bits is None:  # a field of its own, unshifted (mask 64 bits: no masking)
            words.append([(name, expr, 0, 64)])
            used.append(_WORD_BITS)
            continue
        slot = next((k for k, u in enumerate(used) if u + bits <= _WORD_BITS), None)
        if slot is None:
            words.append([])
            used.append(0)
            slot = len(words) - 1
        words[slot].append((name, expr, used[slot], bits))
        used[slot] += bits
    return words


def _indexed_by(store: Store) -> tuple[str, str]:
    """``INDEXED BY`` clauses for the covering indexes of migration ``0011_lcfast_lc_read_indexes``
    (empty for a database opened read-only before it was migrated): the read then touches neither
    the annotation rows (judge completions) nor the text bodies."""
    have = {name for (name,) in store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('annotations_live_lc', 'texts_id_length')")}  # fmt: skip
    return ("INDEXED BY annotations_live_lc" if "annotations_live_lc" in have else "",
            "INDEXED BY texts_id_length" if "texts_id_length" in have else "")  # fmt: skip


def _in(expr: str, column: str, table: str, values: Sequence[str] | None, where: list[str], args: list) -> None:
    if values:
        where.append(f"AND {expr} IN (SELECT id FROM {table} WHERE {column} IN ({', '.join('?' * len(values))}))")
        args.extend(values)


def lc_rows(
    store: Store,
    *,
    groups: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
    excluded_annotators: Sequence[str] = (),
) -> LcRows:
    """The live annotation rows the LC fit and the Wilson intervals need, as integer arrays.

    Parameters
    ----------
    store : Store
        The database (read inside the caller's snapshot).
    groups, references : sequence of str, optional
        Only these annotator groups / reference generators (names checked by the caller).
    excluded_annotators : sequence of str
        Annotator names whose labels are left out.
    """
    where: list[str] = []
    args: list = []
    _in("a.annotator_id", "group_name", "annotators", groups, where, args)
    _in("c.output_1_id", "generator", "outputs", references, where, args)
    if excluded_annotators:
        marks = ", ".join("?" * len(excluded_annotators))
        where.append(f"AND a.annotator_id NOT IN (SELECT id FROM annotators WHERE name IN ({marks}))")
        args.extend(excluded_annotators)
    words = _layout(store)
    cols = [" | ".join(f"({expr} << {shift})" for _, expr, shift, _ in word) for word in words]
    a_index, t_index = _indexed_by(store)
    sql = (f"SELECT {', '.join(cols)}, coalesce(a.preference, -1.0) FROM annotations a {a_index} "
           "JOIN comparisons c ON c.id = a.comparison_id JOIN outputs o2 ON o2.id = c.output_2_id "
           f"JOIN texts t2 {t_index} ON t2.id = o2.text_id WHERE a.retracted_at IS NULL {' '.join(where)} "
           "ORDER BY a.id")  # fmt: skip
    dtype = [(f"w{k}", np.int64) for k in range(len(words))] + [("p", np.float64)]
    raw = np.fromiter(store.conn.execute(sql, args), dtype=dtype)
    out: dict[str, np.ndarray] = {}
    for k, word in enumerate(words):
        packed = raw[f"w{k}"]
        for name, _, shift, bits in word:
            out[name] = packed if bits == 64 else (packed >> shift) & ((1 << bits) - 1)
    pref = raw["p"]
    return LcRows(**out, preference=np.where(pref < 0, np.nan, pref))  # the schema keeps preferences >= 1


_RANGES_FAST = """
    SELECT g.generator, (SELECT min(id) FROM outputs WHERE generator = g.generator),
           (SELECT max(id) FROM outputs WHERE generator = g.generator),
           (SELECT count(*) FROM outputs WHERE generator = g.generator)
    FROM generator_length_sums g ORDER BY g.generator
"""
_RANGES = "SELECT generator, min(id), max(id), count(*) FROM outputs GROUP BY generator ORDER BY generator"


def generator_codes(store: Store, output_ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The generator of each output id as a code into the returned names (sorted by name).

    Each generator's id range and count come from seeks in the ``outputs_generator`` index (the
    generators listed in ``generator_length_sums``; all of ``outputs`` when that misses one); the
    outputs of a generator whose ids are not contiguous are read (as runs of consecutive ids).
    """
    for sql in (_RANGES_FAST, _RANGES):
        ranges = [r for r in store.conn.execute(sql).fetchall() if r[3]]
        codes, names = _codes(store, ranges, np.asarray(output_ids, dtype=np.int64))
        if codes is not None:
            return codes, names
    raise MetricsError("an output id of the annotation rows is not in the outputs table")


def _codes(store: Store, ranges: list[tuple], output_ids: np.ndarray) -> tuple[np.ndarray | None, list[str]]:
    """Codes of ``output_ids`` from (generator, min id, max id, count) rows; None when one is not covered."""
    names = [r[0] for r in ranges]
    starts: list[int] = []
    ends: list[int] = []
    codes: list[int] = []
    for code, (name, low, high, count) in enumerate(ranges):
        if high - low + 1 == count:
            starts.append(low)
            ends.append(high)
            codes.append(code)
            continue
        ids = np.fromiter((i for (i,) in store.conn.execute("SELECT id FROM outputs WHERE generator = ? ORDER BY id",
                                                            [name])), dtype=np.int64)  # fmt: skip
        breaks = np.flatnonzero(np.diff(ids) != 1)
        starts.extend(ids[np.r_[0, breaks + 1]].tolist())
        ends.extend(ids[np.r_[breaks, len(ids) - 1]].tolist())
        codes.extend([code] * (len(breaks) + 1))
    order = np.argsort(starts, kind="stable")
    s, e, c = (np.asarray(v, dtype=np.int64)[order] for v in (starts, ends, codes))
    at = np.searchsorted(s, output_ids, side="right") - 1
    if len(output_ids) and (at.min() < 0 or np.any(e[at] < output_ids)):
        return None, names
    return c[at], names


def first_order_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes numbered by first appearance (as ``pandas.factorize``) and the unique values in that order.

    Integer ``values`` in a range not much wider than their count are coded without sorting
    (first index of each value by ``np.minimum.at``); wider ranges by ``np.unique``.
    """
    values = np.asarray(values, dtype=np.int64)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), values
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span > 4 * n + 1024:
        uniques, first, inverse = np.unique(values, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[inverse.reshape(-1)], uniques[order]
    shifted = values - low
    first = np.full(span, n, dtype=np.int64)
    np.minimum.at(first, shifted, np.arange(n))
    present = np.flatnonzero(first < n)
    order = present[np.argsort(first[present], kind="stable")]
    rank = np.empty(span, dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[shifted], order + low


def output_lengths(store: Store, output_ids: np.ndarray) -> np.ndarray:
    """The text length of each output id (one read per distinct output)."""
    codes, unique = first_order_codes(output_ids)
    found = dict(store.conn.execute(
        "SELECT o.id, t.length FROM outputs o JOIN texts t ON t.id = o.text_id WHERE o.id IN (SELECT value FROM json_each(?))",
        [json.dumps(unique.tolist())],
    ).fetchall())  # fmt: skip
    return np.array([found[i] for i in unique.tolist()], dtype=np.int64)[codes]


def annotator_groups(store: Store) -> dict[int, str]:
    """Annotator id -> group name."""
    return dict(store.conn.execute("SELECT id, group_name FROM annotators").fetchall())
