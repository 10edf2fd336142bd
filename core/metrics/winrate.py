"""AlpacaEval's leaderboard row (win rate, SEM, counts, discrete win rate), vectorised over groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tiebreak.core.metrics import EmptySelection, MetricsError
from tiebreak.core.metrics.accumulate import finalise

__all__ = [
    "ALPACA_COLUMNS",
    "PERCENT_COLUMNS",
    "clean_preferences",
    "leaderboard_row",
    "leaderboard",
    "from_sums",
    "SUMS_COLUMNS",
    "avg_length",
    "to_alpaca_eval",
]

#: Column order of AlpacaEval's leaderboard CSVs (the ``mode`` column is not ours to set).
ALPACA_COLUMNS = [
    "win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total",
    "discrete_win_rate", "avg_length", "length_controlled_winrate", "lc_standard_error",
]  # fmt: skip
#: Columns that are fractions in core and percentages in AlpacaEval-facing tables.
PERCENT_COLUMNS = [
    "win_rate", "standard_error", "discrete_win_rate", "length_controlled_winrate",
    "lc_standard_error",
]  # fmt: skip
DEFAULT_KEYS = ("generator_2", "generator_1", "annotator")
#: Sufficient statistics :func:`from_sums` needs (``tiebreak.core.metrics.sql.winrate_sums``).
SUMS_COLUMNS = ("n_rows", "n_total", "sum_x", "sum_x2", "n_wins", "n_wins_base", "n_draws")


def _as_float_array(preferences: object) -> np.ndarray:
    """Preferences as a float array; None and non-numeric values become NaN."""
    series = (
        pd.Series(preferences, dtype=object)
        if not isinstance(preferences, pd.Series)
        else preferences
    )
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def clean_preferences(
    preferences: Sequence[float] | np.ndarray | pd.Series,
) -> tuple[np.ndarray, int]:
    """AlpacaEval's cleaning: legacy 0 -> 1.5, keep 1 <= p <= 2, return x = p - 1.

    Parameters
    ----------
    preferences : array-like
        Canonical preferences (1 = reference wins, 2 = model wins); None/NaN/-1 are unparsed.

    Returns
    -------
    x : numpy.ndarray
        The kept values minus one, in [0, 1].
    n_dropped : int
        How many input values were dropped (null, NaN, out of range, non-numeric).
    """
    p = _as_float_array(preferences)
    p = np.where(p == 0, 1.5, p)
    keep = (p >= 1) & (p <= 2)
    return p[keep] - 1.0, int(len(p) - keep.sum())


def leaderboard_row(preferences: Sequence[float] | np.ndarray | pd.Series) -> dict[str, object]:
    """One model's leaderboard row against the reference, as fractions (not percent).

    Parameters
    ----------
    preferences : array-like
        The model's preferences, one per annotation row.

    Returns
    -------
    dict
        ``win_rate, standard_error, n_wins, n_wins_base, n_draws, n_total, discrete_win_rate,
        n_dropped, note``. Rates are NaN when nothing parsed; ``standard_error`` is NaN with one
        label; ``note`` says why (empty string when all is well).

    Raises
    ------
    EmptySelection
        When ``preferences`` is empty.
    """
    if len(preferences) == 0:
        raise EmptySelection("leaderboard_row: no preferences given (empty selection)")
    frame = pd.DataFrame({"preference": _as_float_array(preferences), "_k": 0})
    row = leaderboard(frame, keys=("_k",)).iloc[0]
    return {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}


def _group_codes(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.Index]:
    """Group number of every row and the sorted group index (a lean ``groupby().ngroup()``)."""
    if any(frame[key].hasnans for key in keys):  # NA keys: let pandas handle them
        grouped = frame.groupby(keys, sort=True, dropna=False)
        return grouped.ngroup().to_numpy(), grouped.size().index
    combined = np.zeros(len(frame), dtype=np.int64)
    levels = []
    for key in keys:
        key_codes, uniques = pd.factorize(frame[key], sort=True)
        combined = combined * len(uniques) + key_codes
        levels.append(uniques)
    groups, inverse = np.unique(combined, return_inverse=True)
    if len(keys) == 1:
        return inverse, pd.Index(levels[0], name=keys[0])
    level_codes = []
    for level in reversed(levels):
        level_codes.append(groups % len(level))
        groups = groups // len(level)
    # arg-type: pandas-stubs type levels/codes as plain sequences; pandas takes Index and ndarray
    index = pd.MultiIndex(levels=levels, codes=level_codes[::-1], names=keys, verify_integrity=False)  # type: ignore[arg-type]
    return inverse, index


def leaderboard(
    frame: pd.DataFrame,
    keys: Sequence[str] = DEFAULT_KEYS,
    preference_col: str = "preference",
) -> pd.DataFrame:
    """Leaderboard rows for every group of ``keys`` at once (numpy bincount, no Python loop).

    Parameters
    ----------
    frame : pandas.DataFrame
        Annotation rows with the ``keys`` columns and a ``preference`` column.
    keys : sequence of str
        Grouping columns; default (candidate ``generator_2``, reference ``generator_1``,
        annotator group ``annotator``).
    preference_col : str
        Name of the preference column.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``keys``; columns of :func:`leaderboard_row` (fractions).

    Raises
    ------
    MetricsError
        When a needed column is missing.
    EmptySelection
        When ``frame`` has no rows.
    """
    missing = [c for c in [*keys, preference_col] if c not in frame.columns]
    if missing:
        raise MetricsError(f"leaderboard: frame lacks column(s) {', '.join(missing)}")
    if len(frame) == 0:
        raise EmptySelection("leaderboard: the selection holds no annotations")
    codes, index = _group_codes(frame, list(keys))
    n_groups = len(index)
    p = _as_float_array(frame[preference_col])
    p = np.where(p == 0, 1.5, p)
    keep = (p >= 1) & (p <= 2)
    c, x = codes[keep], p[keep] - 1.0
    n_total = np.bincount(c, minlength=n_groups)
    sums = {
        "n_total": n_total,
        "n_dropped": np.bincount(codes, minlength=n_groups) - n_total,
        "sum_x": np.bincount(c, weights=x, minlength=n_groups),
        "sum_x2": np.bincount(c, weights=x * x, minlength=n_groups),
        "n_wins": np.bincount(c[x > 0.5], minlength=n_groups),
        "n_wins_base": np.bincount(c[x < 0.5], minlength=n_groups),
        "n_draws": np.bincount(c[x == 0.5], minlength=n_groups),
    }
    return _finalised(sums, index)


_FINAL_COLUMNS = ["win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total",
                  "discrete_win_rate", "n_dropped", "note"]  # fmt: skip
_FLOAT_COLUMNS = {"win_rate", "standard_error", "discrete_win_rate"}


def _finalised(sums: Mapping[str, np.ndarray], index: pd.Index, extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Leaderboard columns (then ``extra``) from per-group sums, each group through :func:`accumulate.finalise`."""
    order = ("n_total", "n_dropped", "sum_x", "sum_x2", "n_wins", "n_wins_base", "n_draws")
    rows = [finalise(*group) for group in zip(*(sums[k].tolist() for k in order), strict=True)]
    data: dict[str, object] = {}
    for c in _FINAL_COLUMNS:
        values = [getattr(r, c) for r in rows]
        data[c] = values if c == "note" else np.array(values, dtype=float if c in _FLOAT_COLUMNS else np.int64)
    data.update(extra or {})
    return pd.DataFrame(data, index=index, copy=False)


def from_sums(
    sums: pd.DataFrame, avg_lengths: Mapping[str, int | None] | None = None
) -> pd.DataFrame:
    """Leaderboard rows from per-group sufficient statistics (e.g. kept in the database).

    Parameters
    ----------
    sums : pandas.DataFrame
        Columns n_rows, n_total, sum_x, sum_x2, n_wins, n_wins_base, n_draws (x = p - 1 over
        the kept rows), any index.
    avg_lengths : mapping, optional
        Generator name -> AlpacaEval avg_length; when given, an ``avg_length`` column is added
        for the ``generator_2`` index level (NaN where the generator is missing).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`leaderboard` (plus ``avg_length`` when asked), same index. The
        variance is taken as (sum_x2 - sum_x^2 / n) / (n - 1), clipped at 0 (agrees with the
        two-pass value to ~1e-13 for win rates, far inside AlpacaEval's 1e-9 rounding).
    """
    missing = [c for c in SUMS_COLUMNS if c not in sums.columns]
    if missing:
        raise MetricsError(f"from_sums: sums lack column(s) {', '.join(missing)}")
    block = sums if tuple(sums.columns) == SUMS_COLUMNS else sums[list(SUMS_COLUMNS)]
    values = block.to_numpy(dtype=float)  # one block: column access by position is cheap
    col = {c: values[:, i] for i, c in enumerate(SUMS_COLUMNS)}
    n_total = col["n_total"].astype(np.int64)
    final = {
        "n_total": n_total,
        "n_dropped": col["n_rows"].astype(np.int64) - n_total,
        "sum_x": col["sum_x"],
        "sum_x2": col["sum_x2"],
        **{c: col[c].astype(np.int64) for c in ("n_wins", "n_wins_base", "n_draws")},
    }
    extra: dict[str, np.ndarray] = {}
    if avg_lengths is not None:
        names = sums.index.get_level_values("generator_2")
        extra["avg_length"] = np.array(
            [np.nan if avg_lengths.get(g) is None else avg_lengths[g] for g in names], dtype=float
        )
    return _finalised(final, sums.index, extra)


def avg_length(lengths: Sequence[int] | np.ndarray) -> int | None:
    """AlpacaEval's ``avg_length``: int(total characters / number of outputs); None if empty.

    Parameters
    ----------
    lengths : array-like of int
        Length in Unicode code points of each of the model's outputs (one per instruction).
    """
    arr = np.asarray(lengths, dtype=float)
    if arr.size == 0:
        return None
    return int(arr.sum() / arr.size)


def to_alpaca_eval(table: pd.DataFrame, name_level: str = "generator_2") -> pd.DataFrame:
    """Convert a fraction-scale table to AlpacaEval's CSV layout: percent, its column names.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`leaderboard` (optionally with ``avg_length``, LC columns).
    name_level : str
        Index level (or column) holding the model name; it becomes the unnamed index.

    Returns
    -------
    pandas.DataFrame
        Columns in :data:`ALPACA_COLUMNS` order (those present), percent scale, sorted by
        ``win_rate`` descending as AlpacaEval does.
    """
    flat = table.reset_index() if name_level in (table.index.names or []) else table.copy()
    if flat[name_level].duplicated().any():
        dup = flat.loc[flat[name_level].duplicated(), name_level].iloc[0]
        raise MetricsError(
            f"to_alpaca_eval: model {dup!r} appears more than once; select one reference and one "
            "annotator group first"
        )
    out = flat.set_index(name_level)
    out.index.name = None
    cols = [c for c in ALPACA_COLUMNS if c in out.columns]
    out = out[cols].copy()
    for col in PERCENT_COLUMNS:
        if col in out.columns:
            out[col] = out[col].astype(float) * 100
    return out.sort_values("win_rate", ascending=False, kind="stable")
