"""Length-controlled win rate: AlpacaEval's GLM, from published weights or fitted on our data.

Published: q_r = sigmoid(theta_model + theta_difficulty d_r) with the weights minus the
baseline's and the difficulty table matched to our instructions by text
(docs/metrics.md#length-controlled-win-rate-alpacaeval-20).

Fitted, per (annotator group, reference) panel: one soft-label logistic GLM over all its
models, eta = theta_m + gamma tanh(z_r) + d_i, with z_r the length difference (reference minus
model) standardised within each model as AlpacaEval does, gamma shared (length bias is the
annotator's), d_i one difficulty per instruction estimated jointly across the models (ridge
prior N(0, 1)); with fewer than ``min_models`` candidates the d_i term is left out and the output
says so. LC = mean_r sigmoid(theta_m + d_i(r)) over the model's rows (null labels included, as
AlpacaEval predicts for every row); lc_standard_error is AlpacaEval's std(q_r)/sqrt(n). We do
not have AlpacaEval's "gamed baseline" regularisation rows, so fitted values differ from the
published ones (within ~1.5 points on the sample models).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from tiebreak.core.metrics import MetricsError
from tiebreak.core.metrics.lc_alpaca import (
    fit_alpaca_glm,
    names_from_weights_path,
    read_difficulty_table,
)
from tiebreak.core.metrics.lc_fit import (
    fit_glm,
    lc_from_coefficients,
    length_feature,
    panel_rows,
)

__all__ = [
    "MIN_MODELS_FOR_DIFFICULTY",
    "PublishedLC",
    "read_lc_weights",
    "read_difficulty_table",
    "lc_from_coefficients",
    "length_features",
    "is_extreme_change",
    "fit_glm",
    "length_controlled",
]

#: With fewer candidate models per (annotator, reference) the difficulty is not estimated.
MIN_MODELS_FOR_DIFFICULTY = 3
_WEIGHT_COLUMNS = {
    "np.tanh(std_delta_len)": "length",
    "instruction_difficulty": "difficulty",
    "not_gamed_baseline.astype(float)": "strength",
}
LC_KEYS = ["generator_2", "generator_1", "annotator"]
LC_COLUMNS = ["length_controlled_winrate", "lc_standard_error", "lc_method", "lc_note"]


def read_lc_weights(path: str | Path) -> pd.DataFrame:
    """AlpacaEval's per-model GLM weights CSV, columns renamed to length/difficulty/strength."""
    frame = pd.read_csv(path, index_col=0)
    missing = set(_WEIGHT_COLUMNS) - set(frame.columns)
    if missing:
        raise MetricsError(f"{path}: LC weights file lacks column(s) {', '.join(sorted(missing))}")
    return frame.rename(columns=_WEIGHT_COLUMNS)[["length", "difficulty", "strength"]]


@dataclass
class PublishedLC:
    """Published GLM weights for one (annotator group, reference) and the difficulty table.

    ``difficulty`` is indexed by instruction id (matched by text); ``positional`` holds the
    table's values in row order, which is how AlpacaEval looks difficulty up (by the row's
    position in a model's annotations). ``weights`` may be empty (difficulty table only: every
    model is then fitted the AlpacaEval way).
    """

    weights: pd.DataFrame
    difficulty: pd.Series  # indexed by instruction_id
    annotator: str
    baseline: str
    aliases: Mapping[str, str] = field(default_factory=dict)  # our generator name -> weights name
    positional: np.ndarray | None = None

    @classmethod
    def from_files(
        cls,
        weights_path: str | Path | None,
        difficulty_path: str | Path,
        instruction_ids: Callable[[list[str]], list[int | None]],
        annotator: str | None = None,
        baseline: str | None = None,
    ) -> PublishedLC:
        """Load AlpacaEval's weights CSV and a difficulty table.

        Parameters
        ----------
        weights_path : path or None
            AlpacaEval's ``weights/<annotator>/length_controlled_v1/baseline_<reference>.csv``
            or ``lc_weights_<annotator>_baseline_<reference>.csv``; None = no published weights.
        difficulty_path : path
            AlpacaEval's ``instruction_difficulty.csv`` (index, value) or a table with an
            ``instruction`` column (then also matched to our instructions by text).
        instruction_ids : callable
            Maps instruction texts to database ids (None when absent), e.g.
            ``functools.partial(tiebreak.core.metrics.sql.instruction_ids_by_text, store)``.
        annotator, baseline : str, optional
            Default: read from the weights path (required when it says nothing).
        """
        table = read_difficulty_table(difficulty_path)
        difficulty = pd.Series(dtype=float)
        if "instruction" in table.columns:
            ids = instruction_ids(table["instruction"].tolist())
            known = [(i, d) for i, d in zip(ids, table["difficulty"], strict=True) if i is not None]
            difficulty = pd.Series([d for _, d in known], index=[i for i, _ in known], dtype=float)
        positional = table["difficulty"].to_numpy(float)
        if weights_path is None:
            empty = pd.DataFrame(columns=["length", "difficulty", "strength"], dtype=float)
            return cls(empty, difficulty, annotator or "", baseline or "", positional=positional)
        found = names_from_weights_path(weights_path)
        annotator, baseline = annotator or found[0], baseline or found[1]
        if not annotator or not baseline:
            raise MetricsError(f"{weights_path}: cannot tell the annotator and baseline from the path; "
                               "give them (--lc-annotator, --lc-baseline)")  # fmt: skip
        return cls(read_lc_weights(weights_path), difficulty, annotator, baseline, positional=positional)

    def lookup(self, model: str) -> str | None:
        """Name of ``model`` in the weights file, or None when it is not listed there."""
        name = self.aliases.get(model, model)
        return name if name in self.weights.index and self.baseline in self.weights.index else None

    def row_difficulty(self, instr_ids: pd.Series) -> tuple[np.ndarray | None, str]:
        """Difficulty per row of one model (rows in annotation order) and how it was found.

        By text when every instruction is in the table and the model has all of its rows; by
        row position (AlpacaEval's lookup) when it has fewer rows or the table has no texts.
        """
        n_table = 0 if self.positional is None else len(self.positional)
        by_text = self.difficulty.reindex(instr_ids).to_numpy()
        if len(by_text) and not np.isnan(by_text).any() and len(by_text) >= n_table:
            return by_text, "difficulty by instruction"
        if self.positional is not None and 0 < len(instr_ids) <= n_table:
            return self.positional[: len(instr_ids)], (
                f"difficulty by row position as AlpacaEval looks it up ({len(instr_ids)} rows, table {n_table})")
        return None, ""


def is_extreme_change(raw: float, lc: float, abs_diff: float = 0.10, rel_diff: float = 4) -> bool:
    """AlpacaEval's sanity rule (fractions): LC moved more than abs_diff or 1/rel_diff of the room."""
    low = min(raw - raw / rel_diff, raw - abs_diff)
    high = max(raw + (1 - raw) / rel_diff, raw + abs_diff)
    return bool(lc < low or lc > high)


def length_features(frame: pd.DataFrame) -> np.ndarray:
    """tanh of the length difference (reference minus model) standardised within each model."""
    delta = (frame["length_1"] - frame["length_2"]).to_numpy(float)
    groups = frame.groupby([frame[k] for k in LC_KEYS], sort=False, dropna=False).ngroup().to_numpy()
    return length_feature(delta, groups)


def _published_row(
    published: PublishedLC | None,
    model: str,
    key: tuple[str, str, str],
    instr_ids: pd.Series,
    x: np.ndarray,
) -> tuple | None:
    """LC from published weights when they list ``model`` for this panel, else None."""
    if published is None or (key[2], key[1]) != (published.annotator, published.baseline):
        return None
    name = published.lookup(model)
    d_pub, how = published.row_difficulty(instr_ids)
    if name is None or d_pub is None:
        return None
    # one label of the unique weights index -> one row (a Series)
    w = cast(pd.Series, published.weights.loc[name] - published.weights.loc[published.baseline])
    lc, se = lc_from_coefficients(float(w["strength"]), float(w["difficulty"]), d_pub)
    note = f"published AlpacaEval GLM weights ({name}); {how}"
    if x.size and is_extreme_change(float(np.mean(x)), lc):
        note += (f"; WARNING: LC {100 * lc:.1f}% is far from the raw win rate "
                 f"{100 * np.mean(x):.1f}%: do these weights belong to this model?")  # fmt: skip
    return (lc, se, "published", note)


def _alpaca_fit_row(published: PublishedLC | None, rows: pd.DataFrame) -> tuple | None:
    """LC by AlpacaEval's own per-model fit when a difficulty table is given, else None."""
    if published is None or published.positional is None:
        return None
    d, how = published.row_difficulty(rows["instruction_id"])
    if d is None or rows["preference"].notna().sum() < 10:
        return None
    lc, se, _ = fit_alpaca_glm(rows["length_1"].to_numpy(float), rows["length_2"].to_numpy(float),
                               rows["preference"].to_numpy(float), d)  # fmt: skip
    note = ("fitted with AlpacaEval's GLM (L1, 5-fold CV; without its gamed-baseline rows, "
            f"which are not available offline); {how}")  # fmt: skip
    return (lc, se, "fit_alpaca_eval", note)


def _panel(panel: pd.DataFrame, min_models: int, published: PublishedLC | None) -> pd.DataFrame:
    """LC for every candidate of one (annotator, reference) panel."""
    annotator, reference = panel["annotator"].iloc[0], panel["generator_1"].iloc[0]
    models = panel["generator_2"].to_numpy()
    names = list(dict.fromkeys(models))
    m_code = pd.Index(names).get_indexer(models)
    i_codes, _ = pd.factorize(panel["instruction_id"])
    preference = panel["preference"].to_numpy(float)

    def override(j: int, labelled: np.ndarray) -> tuple | None:
        if published is None:
            return None
        rows = m_code == j
        x = np.where(preference == 0, 1.5, preference) - 1
        return (_published_row(published, names[j], (names[j], reference, annotator),
                               panel.loc[rows, "instruction_id"], x[rows & labelled])
                or _alpaca_fit_row(published, panel[rows]))  # fmt: skip

    rows = panel_rows(m_code, names, reference, i_codes, panel["_tanh_z"].to_numpy(), preference, min_models,
                      override)  # fmt: skip
    index = [(model, reference, annotator) for model in names]
    return pd.DataFrame(rows, index=index, columns=LC_COLUMNS)


def length_controlled(
    frame: pd.DataFrame,
    *,
    min_models: int = MIN_MODELS_FOR_DIFFICULTY,
    published: PublishedLC | None = None,
) -> pd.DataFrame:
    """Length-controlled win rate for every (generator_2, generator_1, annotator) in ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Annotation rows with generator_1, generator_2, annotator, instruction_id, length_1,
        length_2 and preference (null rows are kept for prediction, dropped from the fit).
    min_models : int
        Minimum number of candidate models sharing a reference and annotator group for the
        instruction difficulty to be estimated; below it the GLM has no difficulty term.
    published : PublishedLC, optional
        Published weights; used for the models it lists (matching annotator and reference).

    Returns
    -------
    pandas.DataFrame
        Indexed by (generator_2, generator_1, annotator); columns length_controlled_winrate,
        lc_standard_error (fractions), lc_method, lc_note.
    """
    need = [*LC_KEYS, "instruction_id", "length_1", "length_2", "preference"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise MetricsError(f"length_controlled: frame lacks column(s) {', '.join(missing)}")
    empty = pd.DataFrame(columns=LC_COLUMNS)
    if len(frame) == 0:
        return empty.set_index(pd.MultiIndex.from_tuples([], names=LC_KEYS))
    work = frame[need].copy()
    work["_tanh_z"] = length_features(work)
    parts = [
        _panel(p, min_models, published)
        for _, p in work.groupby(["annotator", "generator_1"], sort=True)
    ]
    result = pd.concat(parts)
    result.index = pd.MultiIndex.from_tuples(result.index, names=LC_KEYS)
    return result.sort_index()
