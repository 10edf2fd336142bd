"""Leaderboard rows without pandas: the stored win-rate sums, avg_length and cached LC as plain records.

The same numbers as ``tiebreak.core.metrics.leaderboard.full_leaderboard`` on a cache hit (the
win-rate columns go through :func:`~tiebreak.core.metrics.accumulate.finalise` exactly as
``winrate.from_sums`` does; LC and the Wilson interval are the cached values of the fresh fit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from tiebreak.core.metrics.accumulate import SCALE, WinRate, finalise
from tiebreak.core.metrics.lc_cache import Key
from tiebreak.core.store import Store

__all__ = ["COLUMNS", "sums_rows", "records", "combine_notes"]

#: The leaderboard's columns in order: the index (generator_2, generator_1, annotator), then the table's.
COLUMNS = (
    "generator_2", "generator_1", "annotator", "win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws",
    "n_total", "discrete_win_rate", "n_dropped", "note", "avg_length", "length_controlled_winrate",
    "lc_standard_error", "lc_method", "wilson_low", "wilson_high", "bca_low", "bca_high",
)  # fmt: skip
_FIXED_SCALE = 1.0 / SCALE


def combine_notes(base: str, lc_note: str, interval_note: str) -> str:
    """A row's note: the win-rate note, then ``LC: <lc note>``, then the interval note."""
    return "; ".join(n for n in (base, f"LC: {lc_note}" if lc_note else "", interval_note) if n)


def sums_rows(
    store: Store, *, groups: Sequence[str] | None = None, references: Sequence[str] | None = None
) -> list[tuple[Key, WinRate]]:
    """The finalised win rate of every (generator_2, generator_1, annotator) in the ``winrate_sums`` table.

    Sorted by key; filters and name checks as ``tiebreak.core.metrics.sql.winrate_sums``
    (unknown names raise :class:`~tiebreak.core.store.UnknownName`).
    """
    from tiebreak.core.metrics import sql as q

    where, args = q.sums_filters(store, groups, references)
    out = []
    for g2, g1, an, n_rows, n_total, sx_f, sx_r, sx2_f, sx2_r, wins, base, draws in store.conn.execute(
        q.AGG_SQL.format(where=where), args
    ):
        sum_x, sum_x2 = sx_f * _FIXED_SCALE + sx_r, sx2_f * _FIXED_SCALE + sx2_r
        out.append(((g2, g1, an), finalise(n_total, n_rows - n_total, sum_x, sum_x2, wins, base, draws)))
    return out


def records(
    rows: Sequence[tuple[Key, WinRate]], avg_lengths: Mapping[str, int | None], cached: Mapping[Key, tuple]
) -> list[dict[str, object]]:
    """One dict per row, keys :data:`COLUMNS` (fractions; NaN where undefined; no BCa).

    Parameters
    ----------
    rows : sequence
        :func:`sums_rows`.
    avg_lengths : mapping
        Generator -> AlpacaEval avg_length (``tiebreak.core.metrics.sql.avg_lengths``).
    cached : mapping
        Key -> the cached values (``tiebreak.core.metrics.lc_cache.CACHED``) of every row.
    """
    out = []
    for key, w in rows:
        lc, lc_se, lc_method, lc_note, low, high, interval_note = cached[key]
        length = avg_lengths.get(key[0])
        values = (
            *key, w.win_rate, w.standard_error, w.n_wins, w.n_wins_base, w.n_draws, w.n_total,
            w.discrete_win_rate, w.n_dropped, combine_notes(w.note, lc_note, interval_note),
            math.nan if length is None else float(length), lc, lc_se, lc_method, low, high, math.nan, math.nan,
        )  # fmt: skip
        out.append(dict(zip(COLUMNS, values, strict=True)))
    return out
