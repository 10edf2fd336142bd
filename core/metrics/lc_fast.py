"""The leaderboard's cold path without pandas: fitted LC and Wilson intervals from integer arrays.

For the common options (the "fit" / "fit_no_difficulty" methods: no published LC files, no
bootstrap) the rows :mod:`tiebreak.core.metrics.lc_cache` stores are computed from
:func:`tiebreak.core.metrics.sql_arrays.lc_rows` with numpy alone, through the same fit and
per-panel code as the pandas path (:func:`tiebreak.core.metrics.lc_fit.panel_rows`), in the same
row order, so the numbers are the pandas path's (to rounding); then stored in the cache and
returned as the plain records ``tiebreak.core.cli.leaderboard_text`` prints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tiebreak.core.metrics import MetricsError, board_rows, lc_cache
from tiebreak.core.metrics.accumulate import WinRate, finalise, wilson_bounds, z_value
from tiebreak.core.metrics.lc_cache import Key
from tiebreak.core.metrics.lc_fit import length_feature, panel_rows
from tiebreak.core.metrics.sql_arrays import (
    LcRows,
    annotator_groups,
    first_order_codes,
    generator_codes,
    lc_rows,
    output_lengths,
)
from tiebreak.core.store import Store

__all__ = ["Coded", "Fitted", "coded_rows", "cache_rows", "win_rates", "fit_stale", "fresh_records"]

_NO_LABELS = "no parsed labels: intervals undefined"


@dataclass(frozen=True)
class Coded:
    """Annotation rows with every name coded: key (generator_2, generator_1, annotator) and panel per row."""

    keys: list[Key]  # key code -> names
    key: np.ndarray  # key code per row
    instruction: np.ndarray  # instruction id per row
    delta: np.ndarray  # length_1 - length_2 per row
    preference: np.ndarray  # NaN where null


def coded_rows(store: Store, rows: LcRows) -> Coded:
    """Name every row's key: generators of both outputs, the annotator's group; length differences."""
    outputs = np.concatenate([rows.output_2, rows.output_1])
    gen, names = generator_codes(store, outputs)
    g2, g1 = gen[: len(rows)], gen[len(rows) :]
    group_of = annotator_groups(store)
    a_codes, a_ids = first_order_codes(rows.annotator)
    group_names = sorted({group_of[int(a)] for a in a_ids})
    g_index = {g: k for k, g in enumerate(group_names)}
    grp = np.array([g_index[group_of[int(a)]] for a in a_ids], dtype=np.int64)[a_codes] if len(rows) else a_codes
    combined = (g2 * len(names) + g1) * max(len(group_names), 1) + grp
    key, uniques = first_order_codes(combined)
    n_g, n_n = max(len(group_names), 1), len(names)
    keys = [(names[int(u) // n_g // n_n], names[int(u) // n_g % n_n], group_names[int(u) % n_g]) for u in uniques]
    delta = output_lengths(store, rows.output_1) - rows.length_2
    return Coded(keys, key, rows.instruction, delta.astype(float), rows.preference)


def cache_rows(coded: Coded, min_models: int, panels: Iterable[tuple[str, str]] | None = None) -> dict[Key, tuple]:
    """The :data:`~tiebreak.core.metrics.lc_cache.CACHED` values of every key of the given panels.

    Parameters
    ----------
    coded : Coded
        :func:`coded_rows`.
    min_models : int
        Fewer candidates in a panel: fitted without difficulty (noted).
    panels : iterable of (reference, annotator group), optional
        Only these panels (default: all).
    """
    feature = length_feature(coded.delta, coded.key)
    panel_names = sorted({(group, reference) for _, reference, group in coded.keys})
    panel_code = {p: j for j, p in enumerate(panel_names)}
    row_panel = np.array([panel_code[(g, r)] for _, r, g in coded.keys], dtype=np.int64)[coded.key]
    wanted = None if panels is None else set(panels)
    wilson = _wilson(coded)
    out: dict[Key, tuple] = {}
    for j, (group, reference) in enumerate(panel_names):
        if wanted is not None and (reference, group) not in wanted:
            continue
        idx = np.flatnonzero(row_panel == j)  # the panel's rows in row order
        m_code, model_keys = first_order_codes(coded.key[idx])
        names = [coded.keys[int(k)][0] for k in model_keys]
        i_code, _ = first_order_codes(coded.instruction[idx])
        lc = panel_rows(m_code, names, reference, i_code, feature[idx], coded.preference[idx], min_models)
        for j, k in enumerate(model_keys.tolist()):
            out[coded.keys[k]] = (*lc[j], *wilson[k])
    return out


def _wilson(coded: Coded) -> list[tuple[float, float, str]]:
    """The tie-adjusted Wilson interval of every key (as ``intervals.interval_table`` without bootstrap)."""
    n_keys = len(coded.keys)
    p = np.where(coded.preference == 0, 1.5, coded.preference)
    keep = (p >= 1) & (p <= 2)
    c, x = coded.key[keep], p[keep] - 1.0
    n = np.bincount(c, minlength=n_keys).tolist()
    sum_x = np.bincount(c, x, n_keys).tolist()
    sum_v = np.bincount(c, x * (1 - x), n_keys).tolist()
    z = z_value(0.95)
    out = []
    for k in range(n_keys):
        if not n[k]:
            out.append((math.nan, math.nan, _NO_LABELS))
            continue
        low, high = wilson_bounds(n[k], sum_x[k] / n[k], sum_v[k] / n[k], z)
        out.append((float(low), float(high), ""))
    return out


def win_rates(coded: Coded) -> list[tuple[Key, WinRate]]:
    """The finalised win rate of every key from the rows (as ``winrate.leaderboard``), sorted by key."""
    n = len(coded.keys)
    p = np.where(coded.preference == 0, 1.5, coded.preference)
    keep = (p >= 1) & (p <= 2)
    c, x = coded.key[keep], p[keep] - 1.0
    n_total = np.bincount(c, minlength=n)
    sums = zip(n_total.tolist(), (np.bincount(coded.key, minlength=n) - n_total).tolist(),
               np.bincount(c, x, n).tolist(), np.bincount(c, x * x, n).tolist(),
               np.bincount(c[x > 0.5], minlength=n).tolist(), np.bincount(c[x < 0.5], minlength=n).tolist(),
               np.bincount(c[x == 0.5], minlength=n).tolist(), strict=True)  # fmt: skip
    rows = [(coded.keys[k], finalise(*s)) for k, s in enumerate(sums)]
    return sorted(rows, key=lambda r: r[0])


def _check_counts(rows: Sequence[tuple[Key, WinRate]], coded: Coded) -> None:
    """MetricsError unless the stored sums count exactly the rows read (same snapshot: they must)."""
    counts = dict(zip(coded.keys, np.bincount(coded.key, minlength=len(coded.keys)).tolist(), strict=True))
    stored = {k: w.n_total + w.n_dropped for k, w in rows}
    if counts != stored:
        raise MetricsError(
            "leaderboard: the stored win-rate sums do not match the annotation rows "
            f"({len(stored)} groups / {sum(stored.values())} rows vs {len(counts)} / {len(coded.key)})"
        )


@dataclass(frozen=True)
class Fitted:
    """One snapshot's leaderboard rows with the LC panels the cache did not hold fitted (not yet stored)."""

    rows: list[tuple[Key, WinRate]]  # the selection's win rates, sorted by key
    found: dict[Key, tuple]  # cached rows current in the snapshot
    computed: dict[Key, tuple]  # rows fitted now
    stale: set[tuple[str, str]]  # (reference, annotator group) panels fitted now
    now: lc_cache.Versions | None  # the snapshot's versions (None with excluded workers: not cacheable)
    lengths: dict[str, int]  # average output length per generator (empty unless asked)

    def save(self, store: Store, method: str) -> bool:
        """Store the fitted rows in the LC cache (one short write; False when not stored, see ``lc_cache.save``)."""
        if self.now is None or not self.computed:
            return False
        return lc_cache.save(store, lc_cache.Pending(method, self.now, tuple(self.computed.items())))


def fit_stale(
    store: Store,
    *,
    method: str,
    min_models: int,
    groups: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
    excluded: Sequence[str] = (),
    lengths: bool = True,
) -> Fitted | None:
    """Read the sums, the LC cache and the rows of the stale panels in one snapshot; fit those panels.

    Only the rows of the stale panels' groups and references are read (after a label by one group:
    its rows). With ``excluded`` workers every row of the selection is read, the win rates are
    recomputed from them and nothing may be cached. Stores nothing (:meth:`Fitted.save`); None for
    an empty selection.

    Parameters
    ----------
    store : Store
        The database.
    method : str
        :func:`tiebreak.core.metrics.lc_cache.method_key` of the options (no LC files).
    min_models : int
        ``--min-models``.
    groups, references : sequence of str, optional
        Only these annotator groups / references (unknown names raise ``UnknownName``).
    excluded : sequence of str
        Annotator names whose labels are left out.
    lengths : bool
        Also read the average output lengths (the records need them; a cache refresh does not).
    """
    with store.snapshot():
        rows = board_rows.sums_rows(store, groups=groups, references=references)
        if not rows:
            return None
        now = None if excluded else lc_cache.versions(store)
        found = lc_cache.current(store, [k for k, _ in rows], method, now) if now is not None else {}
        stale = {k[1:] for k, _ in rows if k not in found}
        avg = _avg_lengths(store) if lengths else {}
        read_groups, read_refs = sorted({g for _, g in stale}), sorted({r for r, _ in stale})
        coded = _read(store, read_groups, read_refs, groups, references, excluded)
    if excluded and coded is not None:  # (excluded: always read)
        rows = win_rates(coded)
        if not rows:
            return None
    elif coded is not None:
        _check_counts([r for r in rows if r[0][2] in read_groups and r[0][1] in read_refs], coded)
    computed = {} if coded is None else cache_rows(coded, min_models, None if excluded else stale)
    return Fitted(rows, found, computed, stale, now, avg)


def _read(store: Store, read_groups: list[str], read_refs: list[str], groups: Sequence[str] | None,
          references: Sequence[str] | None, excluded: Sequence[str]) -> Coded | None:  # fmt: skip
    """The rows to fit: the stale panels' groups and references (after a label by one group: its rows
    alone); with excluded workers every row of the selection (the win rates too come from them)."""
    if excluded:
        return coded_rows(store, lc_rows(store, groups=groups, references=references, excluded_annotators=excluded))
    if not read_groups:
        return None
    return coded_rows(store, lc_rows(store, groups=read_groups, references=read_refs))


def fresh_records(
    store: Store,
    *,
    method: str,
    min_models: int,
    groups: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
    excluded: Sequence[str] = (),
) -> list[dict[str, object]] | None:
    """The leaderboard records with fitted LC computed without pandas; None for an empty selection.

    :func:`fit_stale`, then the fitted rows stored in the cache after the snapshot (unless
    workers are ``excluded``: the cache holds all labels); the parameters are :func:`fit_stale`'s.
    """
    fitted = fit_stale(store, method=method, min_models=min_models, groups=groups, references=references,
                       excluded=excluded)  # fmt: skip
    if fitted is None:
        return None
    fitted.save(store, method)
    reused = {k: v for k, v in fitted.found.items() if k[1:] not in fitted.stale}
    return board_rows.records(fitted.rows, fitted.lengths, {**reused, **fitted.computed})


def _avg_lengths(store: Store) -> dict[str, int]:
    from tiebreak.core.metrics import sql as q

    return q.avg_lengths(store)
