"""AlpacaEval's leaderboard CSV (``<annotator>_leaderboard.csv``) from Tiebreak's leaderboard table."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tiebreak.core.metrics.winrate import to_alpaca_eval

__all__ = ["LEADERBOARD_COLUMNS", "MODES", "alpaca_leaderboard", "leaderboard_csv"]

#: AlpacaEval 2's leaderboard columns in its order, then which method produced each LC.
LEADERBOARD_COLUMNS = [
    "win_rate", "standard_error", "n_wins", "n_wins_base", "n_draws", "n_total",
    "discrete_win_rate", "mode", "avg_length", "length_controlled_winrate", "lc_standard_error",
    "lc_method",
]  # fmt: skip
#: AlpacaEval's leaderboard modes (constants.ORDERED_LEADERBOARD_MODES); "community" is what
#: ``alpaca_eval evaluate`` writes for a user's model.
MODES = ("minimal", "verified", "community", "dev")
_COUNTS = ("n_wins", "n_wins_base", "n_draws", "n_total", "avg_length")
#: lc_method values of ``tiebreak.core.metrics.lc`` -> words in the CSV.
LC_METHODS = {
    "published": "published weights",
    "published_positional": "published weights",
    "fit_alpaca_eval": "fitted",
    "fit": "fitted",
    "fit_no_difficulty": "fitted without difficulty",
    "reference": "reference",
    "none": "none",
}


def alpaca_leaderboard(table: pd.DataFrame, mode: str = "community") -> pd.DataFrame:
    """One panel of ``full_leaderboard`` in AlpacaEval's CSV layout.

    Parameters
    ----------
    table : pandas.DataFrame
        ``tiebreak.core.metrics.leaderboard.full_leaderboard`` rows of ONE annotator group and
        reference (fractions).
    mode : str
        The ``mode`` column (one of MODES).

    Returns
    -------
    pandas.DataFrame
        Indexed by model name, columns LEADERBOARD_COLUMNS (those available): percent scale,
        counts and ``avg_length`` as integers (AlpacaEval's ``int(mean length)``), sorted by
        length-controlled win rate when there is one, else by win rate, as AlpacaEval does.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    out = to_alpaca_eval(table)
    out["mode"] = mode
    for col in _COUNTS:
        if col in out.columns:
            out[col] = pd.array(np.floor(out[col].astype(float)), dtype="Int64")
    if "lc_method" in table.columns:
        methods = table.reset_index().set_index("generator_2")["lc_method"]
        out["lc_method"] = [LC_METHODS.get(str(methods.get(m)), str(methods.get(m))) for m in out.index]
    out = out[[c for c in LEADERBOARD_COLUMNS if c in out.columns]]
    key = "length_controlled_winrate"
    if key in out.columns and out[key].notna().any():
        out = out.sort_values(key, ascending=False, kind="stable", na_position="last")
    return out


def leaderboard_csv(table: pd.DataFrame, path: str | Path | None = None, mode: str = "community", *,
                    force: bool = False, protect: Sequence[str | Path | None] = ()) -> str:  # fmt: skip
    """Write (or return, when ``path`` is None) the CSV text of :func:`alpaca_leaderboard`.

    Floats are written with full precision; ``pandas.read_csv(path, index_col=0)`` (how
    AlpacaEval reads its leaderboards) gives the same frame back.
    """
    buf = io.StringIO()
    alpaca_leaderboard(table, mode).to_csv(buf)
    text = buf.getvalue()
    if path is not None:
        from tiebreak.core.formats.safe_write import write_safely

        write_safely(path, lambda fh: fh.write(text), force=force, protect=protect)
    return text
