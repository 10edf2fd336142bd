"""AlpacaEval's own LC pieces: its weights-file layout, its difficulty table, its per-model GLM fit.

AlpacaEval (0.6.6, ``metrics/glm_winrate.py``) looks an annotation row's instruction difficulty
up by the row's POSITION in the model's annotations (``instruction_difficulty[df.index]``), not
by its instruction. For a model with all 805 rows in the canonical order the two agree; for a
model with fewer rows (phi-2: 803) only the positional lookup reproduces the published LC.
Its fit for a new model is an L1-penalised logistic regression (liblinear, 5-fold GroupKFold
over C, soft labels by duplicating each row with weights x and 1 - x, no intercept) on
tanh(standardised length difference), the difficulty and a constant; the published fits also
add rows of two "gamed" baselines (weight 0.1 each) that are not distributed offline, so
:func:`fit_alpaca_glm` is the "length_controlled_noreg" variant of that fit.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiebreak.core.metrics import MetricsError

if TYPE_CHECKING:  # imported by the functions that compute: reading a weights path costs no import
    import numpy as np
    import pandas as pd

__all__ = ["names_from_weights_path", "read_difficulty_table", "fit_alpaca_glm"]

_FLAT = re.compile(r"lc_weights_(.+)_baseline_(.+)\.csv$")
_NESTED = re.compile(r"baseline_(.+)\.csv$")


def names_from_weights_path(path: str | Path) -> tuple[str | None, str | None]:
    """(annotator, baseline) from a weights path.

    Accepts AlpacaEval's layout ``weights/<annotator>/length_controlled_v1/baseline_<ref>.csv``
    (also without the GLM folder) and the flat ``lc_weights_<annotator>_baseline_<ref>.csv``.
    """
    p = Path(path)
    flat = _FLAT.match(p.name)
    if flat:
        return flat.group(1), flat.group(2)
    nested = _NESTED.match(p.name)
    if not nested:
        return None, None
    parent = p.parent
    if parent.name.startswith("length_controlled"):
        parent = parent.parent
    return (parent.name or None), nested.group(1)


def read_difficulty_table(path: str | Path) -> pd.DataFrame:
    """A difficulty table with columns ``difficulty`` and (when the file has one) ``instruction``,
    one row per position in the canonical instruction order.

    Accepts AlpacaEval's ``instruction_difficulty.csv`` (first column the index, one value
    column) and tables with ``instruction_difficulty_derived`` / ``instruction_difficulty``
    and ``instruction`` columns.
    """
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise MetricsError(f"{path}: cannot read the difficulty table ({exc})") from exc
    names = [c for c in ("instruction_difficulty_derived", "instruction_difficulty", "difficulty") if c in frame.columns]
    if names:
        value = names[0]
    else:
        numeric = [c for c in frame.columns[1:] if pd.api.types.is_numeric_dtype(frame[c])]
        if len(frame.columns) != 2 or not numeric:
            raise MetricsError(f"{path}: difficulty table needs an instruction_difficulty column "
                               "(or AlpacaEval's two-column index,value layout)")  # fmt: skip
        value = numeric[0]
    out = pd.DataFrame({"difficulty": pd.to_numeric(frame[value], errors="coerce")})
    if out["difficulty"].isna().any():
        bad = int(out["difficulty"].isna().to_numpy().argmax()) + 2
        raise MetricsError(f"{path}: line {bad}: difficulty is not a number")
    if "instruction" in frame.columns:
        out["instruction"] = frame["instruction"].astype(str)
    return out


def _logloss_continuous(y_true: np.ndarray, y_pred: np.ndarray, true_prob: np.ndarray,
                        true_sample_weight: np.ndarray | None = None) -> float:  # fmt: skip
    """AlpacaEval's cross-validation score: log loss against the soft label."""
    import numpy as np

    target = np.where(y_true == 1, true_prob, 1 - true_prob)
    p = np.clip(y_pred, 1e-15, 1 - 1e-15)
    loss = target * np.log(p) + (1 - target) * np.log(1 - p)
    if true_sample_weight is not None:
        loss = loss * true_sample_weight
    return float(-np.mean(loss))


def _fit_cv(xt: np.ndarray, pt: np.ndarray) -> Any:
    """AlpacaEval's ``fit_LogisticRegressionCV(..., is_ytrue_proba=True)`` on soft labels ``pt``."""
    import numpy as np
    import sklearn
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import GroupKFold

    x_dup = np.vstack([xt, xt])
    y_dup = np.concatenate([np.ones(len(xt), int), np.zeros(len(xt), int)])
    prob = np.concatenate([pt, 1 - pt])
    groups = np.concatenate([np.arange(len(xt)), np.arange(len(xt))])
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # sklearn 1.8 renames penalty= (same fit)
        scorer = make_scorer(_logloss_continuous, response_method="predict_proba", greater_is_better=False)
        scorer = scorer.set_score_request(true_sample_weight=True, true_prob=True)
        model = LogisticRegressionCV(cv=GroupKFold(n_splits=5), scoring=scorer, random_state=123, dual=False,
                                     penalty="l1", solver="liblinear", n_jobs=None, fit_intercept=False)  # fmt: skip
        model.set_fit_request(sample_weight=True)
        model.fit(x_dup, y_dup, sample_weight=prob, groups=groups, true_sample_weight=None, true_prob=prob)
    return model


def fit_alpaca_glm(length_1: np.ndarray, length_2: np.ndarray, preference: np.ndarray,
                   difficulty: np.ndarray) -> tuple[float, float, np.ndarray]:  # fmt: skip
    """AlpacaEval's per-model LC fit without the gamed-baseline rows ("length_controlled_noreg").

    Parameters
    ----------
    length_1, length_2 : numpy.ndarray
        Output lengths (code points) of every annotation row of the model, in row order.
    preference : numpy.ndarray
        Preferences in [1, 2] (0 = draw, NaN = unparsed: predicted but not fitted).
    difficulty : numpy.ndarray
        Difficulty of each row (AlpacaEval: by row position).

    Returns
    -------
    (lc, se, weights)
        Mean and standard error (sem, ddof=1) of the predicted preferences with the length term
        off (fractions), and the coefficients (length, difficulty, strength).
    """
    import numpy as np
    import pandas as pd

    delta = pd.Series(np.asarray(length_1, float) - np.asarray(length_2, float))
    x = np.column_stack([np.tanh(delta / delta.std()), np.asarray(difficulty, float), np.ones(len(delta))])
    p = np.asarray(preference, float)
    p = np.where(p == 0, 1.5, p) - 1
    keep = ~np.isnan(p)
    if keep.sum() < 10:
        raise MetricsError(f"AlpacaEval's LC fit needs at least 10 parsed rows, got {int(keep.sum())}")
    model = _fit_cv(x[keep], p[keep])
    test = x.copy()
    test[:, 0] = 0.0  # no length difference
    q = model.predict_proba(test)[:, 1]
    se = float(q.std(ddof=1) / np.sqrt(len(q))) if len(q) > 1 else float("nan")  # pandas' sem
    return float(q.mean()), se, model.coef_[0].copy()
