"""AlpacaEval's two leaderboards (models, evaluators) in one read-consistent snapshot, Qt-free."""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pandas as pd

from tiebreak.core.errors import TiebreakError
from tiebreak.core.formats.safe_write import write_safely
from tiebreak.core.metrics import EmptySelection
from tiebreak.core.store import Store

__all__ = ["BoardsSnapshot", "compute_boards", "paired_tables", "default_gold", "export_csv", "export_alpaca_eval"]

#: Bootstrap resamples of the GUI's intervals (the CLI's default).
GUI_RESAMPLES = 2000


@dataclass(frozen=True)
class BoardsSnapshot:
    """Both leaderboards at one state of the database (fraction scale).

    Attributes
    ----------
    models : pandas.DataFrame
        ``tiebreak leaderboard``'s full table, indexed (generator_2, generator_1, annotator);
        empty when there are no annotations.
    paired : dict
        (reference, annotator group) -> Holm-corrected paired tests
        (:func:`tiebreak.core.metrics.paired.paired_matrix`), for panels with 2+ models.
    evaluators : pandas.DataFrame or None
        ``tiebreak agreement``'s table (gold humans first, then each judge); None without a
        human group.
    gold : str or None
        The human group used as gold.
    notes : list of str
        What was left out and why (shown under the tables).
    """

    models: pd.DataFrame
    paired: dict[tuple[str, str], pd.DataFrame]
    evaluators: pd.DataFrame | None
    gold: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def panels(self) -> list[tuple[str, str]]:
        """(reference, annotator group) pairs present in the models table."""
        if self.models.empty:
            return []
        idx = self.models.index
        pairs = zip(idx.get_level_values("generator_1"), idx.get_level_values("annotator"), strict=True)
        return sorted(set(pairs))

    def panel(self, reference: str, group: str) -> pd.DataFrame:
        """The models rows of one (reference, annotator group), best win rate first."""
        idx = self.models.index
        mask = (idx.get_level_values("generator_1") == reference) & (idx.get_level_values("annotator") == group)
        return self.models[mask].sort_values("win_rate", ascending=False, kind="stable")


def default_gold(store: Store) -> str | None:
    """The human group with the most live annotations (None when there is none)."""
    humans = [g for g in store.groups() if g["kind"] == "human" and g["annotations"] > 0]
    return max(humans, key=lambda g: g["annotations"])["group"] if humans else None


def compute_boards(
    store: Store, *, gold: str | None = None, hourly_rate: float = 18.0, n_resamples: int = GUI_RESAMPLES,
    paired: bool = True,
) -> BoardsSnapshot:
    """Compute both leaderboards with the CLI's own functions (``model_table``, ``evaluator_table``), in one read transaction.

    LC and Wilson intervals come from the LC cache where it is current; what had to be fitted is
    stored in it after the read transaction (one short write, skipped when the database is busy
    or cannot be written; see ``tiebreak.core.metrics.lc_cache``).

    Parameters
    ----------
    store : Store
        The database (a connection owned by the calling thread).
    gold : str, optional
        Human group for the evaluator leaderboard (default :func:`default_gold`).
    hourly_rate : float
        USD per hour paid to humans (their price per 1,000).
    n_resamples : int
        Bootstrap resamples of the BCa intervals (0: none).
    paired : bool
        Also run the paired tests of every panel (False: ``paired`` is empty; compute one panel's
        with :func:`paired_tables` when it is shown: 50 models are 1,225 tests a panel).

    Returns
    -------
    BoardsSnapshot
    """
    from tiebreak.core.metrics import evaluator_table, model_table

    notes: list[str] = []
    with store.snapshot():
        try:
            models = model_table.compute(store, model_table.BoardOptions(resamples=n_resamples),
                                         bootstrap=n_resamples > 0)  # fmt: skip
        except EmptySelection as exc:
            models = pd.DataFrame()
            notes.append(f"models: {exc}")
        tests = paired_tables(store) if paired and not models.empty else {}
        gold = gold or default_gold(store)
        evaluators = None
        if gold is not None:
            try:
                evaluators = evaluator_table.compute(store, gold, None, hourly_rate)
                notes.extend(evaluators.attrs.get("notes", []))
            except TiebreakError as exc:
                notes.append(f"evaluators: {exc}")
        else:
            notes.append("evaluators: no human labels yet (label some to compare the judges with people)")
    model_table.save_cache(store, models)  # LC computed in the snapshot: cached after it
    return BoardsSnapshot(models, tests, evaluators, gold, notes)


def paired_tables(store: Store, panel: tuple[str, str] | None = None) -> dict[tuple[str, str], pd.DataFrame]:
    """Holm-corrected paired tests per (reference, group) panel with at least two models.

    Parameters
    ----------
    store : Store
        The database.
    panel : (reference, group), optional
        Only this panel (default: every panel).
    """
    from tiebreak.core.metrics import sql as q
    from tiebreak.core.metrics.paired import paired_matrix, per_instruction_scores

    frame = q.metric_frame(store, references=[panel[0]], groups=[panel[1]]) if panel else q.metric_frame(store)
    out: dict[tuple[str, str], pd.DataFrame] = {}
    for (ref, group), block in frame.groupby(["generator_1", "annotator"], sort=True):
        scores = per_instruction_scores(block)
        if scores.shape[1] >= 2:
            out[(str(ref), str(group))] = paired_matrix(scores)
    return out


def _cell(v: object) -> object:
    """A CSV cell: NaN as empty, numpy scalars unwrapped."""
    v = v.item() if hasattr(v, "item") else v
    return "" if isinstance(v, float) and math.isnan(v) else v


def export_csv(table: pd.DataFrame, path: str | os.PathLike[str], *, force: bool = False,
               protect: Path | None = None) -> Path:  # fmt: skip
    """Write a displayed table (header + rows, index as first column) through ``write_safely``.

    Raises
    ------
    OutputFileError
        A refused target (existing file without ``force``, the open database) or a failed write.
    """
    flat = table.reset_index()

    def write(fh: IO[str]) -> None:
        w = csv.writer(fh)
        w.writerow([str(c) for c in flat.columns])
        for row in flat.itertuples(index=False):
            w.writerow([_cell(v) for v in row])

    return write_safely(path, write, force=force, protect=[protect])


def export_alpaca_eval(snapshot: BoardsSnapshot, reference: str, group: str, path: str | os.PathLike[str],
                       *, force: bool = False, protect: Path | None = None) -> Path:  # fmt: skip
    """Write one panel in AlpacaEval's leaderboard CSV layout (as ``tiebreak leaderboard --format csv``).

    Raises
    ------
    OutputFileError
        As :func:`export_csv`.
    """
    from tiebreak.core.metrics.winrate import to_alpaca_eval

    table = to_alpaca_eval(snapshot.panel(reference, group))
    return write_safely(path, lambda fh: table.to_csv(fh), force=force, protect=[protect])
