"""The full model leaderboard: AlpacaEval row, avg_length, LC and intervals in one table."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tiebreak.core.metrics import MetricsError
from tiebreak.core.metrics.board_rows import combine_notes
from tiebreak.core.metrics.intervals import DEFAULT_RESAMPLES, DEFAULT_SEED, interval_table
from tiebreak.core.metrics.lc import MIN_MODELS_FOR_DIFFICULTY, PublishedLC, length_controlled
from tiebreak.core.metrics.winrate import DEFAULT_KEYS, leaderboard

__all__ = ["full_leaderboard", "combine_parts", "combine_notes", "leaderboard_parts"]


def full_leaderboard(
    frame: pd.DataFrame,
    avg_lengths: Mapping[str, int | None] | None = None,
    *,
    rows: pd.DataFrame | None = None,
    published: PublishedLC | None = None,
    min_models: int = MIN_MODELS_FOR_DIFFICULTY,
    bootstrap: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Every (candidate, reference, annotator group) row with all metrics, fraction scale.

    Parameters
    ----------
    frame : pandas.DataFrame
        Annotation rows (see ``tiebreak.core.metrics.sql.metric_frame``).
    avg_lengths : mapping, optional
        Generator name -> AlpacaEval avg_length (None/missing -> NaN).
    rows : pandas.DataFrame, optional
        The leaderboard rows already computed from the store's trigger-kept sums
        (``tiebreak.core.metrics.winrate.from_sums``, with ``avg_length``); then ``frame`` only feeds LC
        and the intervals, and ``avg_lengths`` is not used. Their groups and row counts must
        match ``frame`` (else :class:`MetricsError`).
    published : PublishedLC, optional
        Published GLM weights for LC of the models they list.
    min_models : int
        Fewer candidate models per panel -> LC without difficulty (noted).
    bootstrap, n_resamples, seed, confidence
        Interval options (see ``tiebreak.core.metrics.intervals``).

    Returns
    -------
    pandas.DataFrame
        Indexed by (generator_2, generator_1, annotator); columns win_rate, standard_error,
        n_wins, n_wins_base, n_draws, n_total, discrete_win_rate, avg_length,
        length_controlled_winrate, lc_standard_error, wilson_low/high, bca_low/high,
        n_dropped, lc_method, note.

    Raises
    ------
    MetricsError
        When ``rows`` do not match ``frame``.
    """
    return combine_parts(*leaderboard_parts(
        frame, avg_lengths, rows=rows, published=published, min_models=min_models, bootstrap=bootstrap,
        n_resamples=n_resamples, seed=seed, confidence=confidence,
    ))  # fmt: skip


def leaderboard_parts(
    frame: pd.DataFrame,
    avg_lengths: Mapping[str, int | None] | None = None,
    *,
    rows: pd.DataFrame | None = None,
    published: PublishedLC | None = None,
    min_models: int = MIN_MODELS_FOR_DIFFICULTY,
    bootstrap: bool = True,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`full_leaderboard` before :func:`combine_parts`: (win-rate rows, LC table, interval table).

    Same parameters and errors as :func:`full_leaderboard`; the LC and interval tables keep their
    own notes (``lc_note``, ``interval_note``), e.g. to be cached per row.
    """
    if rows is None:
        rows = leaderboard(frame, keys=DEFAULT_KEYS)
        lengths = avg_lengths or {}
        rows["avg_length"] = [
            lengths.get(g) if lengths.get(g) is not None else np.nan
            for g in rows.index.get_level_values("generator_2")
        ]
    else:
        _check_rows_match(rows, frame)
    lc = length_controlled(frame, min_models=min_models, published=published)
    iv = interval_table(
        frame,
        DEFAULT_KEYS,
        confidence=confidence,
        n_resamples=n_resamples,
        seed=seed,
        bootstrap=bootstrap,
    )
    return rows, lc, iv


def combine_parts(rows: pd.DataFrame, lc: pd.DataFrame, iv: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard table from its parts: win-rate ``rows`` (with ``avg_length``), the
    :func:`~tiebreak.core.metrics.lc.length_controlled` table and the
    :func:`~tiebreak.core.metrics.intervals.interval_table` (same index); notes joined.
    """
    out = rows.join(lc, how="left").join(iv, how="left")
    out["note"] = [
        combine_notes(base, lc_note, iv_note)
        for base, lc_note, iv_note in zip(out["note"], out["lc_note"], out["interval_note"], strict=True)
    ]
    return out.drop(columns=["lc_note", "interval_note"])


def _check_rows_match(rows: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Raise :class:`MetricsError` unless ``rows`` cover exactly the groups and rows of ``frame``."""
    missing = [c for c in ("avg_length", "n_total", "n_dropped") if c not in rows.columns]
    if missing:
        raise MetricsError(f"full_leaderboard: rows lack column(s) {', '.join(missing)}")
    sizes = frame.groupby(list(DEFAULT_KEYS), sort=True).size()
    counts = (rows["n_total"] + rows["n_dropped"]).sort_index()
    if not sizes.index.equals(counts.index) or not np.array_equal(sizes.to_numpy(), counts.to_numpy()):
        raise MetricsError(
            "full_leaderboard: the stored win-rate sums do not match the annotation rows "
            f"({len(counts)} groups / {int(counts.sum())} rows vs {len(sizes)} / {len(frame)}); "
            "was the selection the same?"
        )
