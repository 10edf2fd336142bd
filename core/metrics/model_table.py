"""The model leaderboard's table (``tiebreak leaderboard``'s numbers) for the CLI, the export and the app; no Qt.

Three ways to the same numbers: every row's LC and Wilson interval from the LC cache
(:func:`cached_records`: no pandas), the panels the cache lacks fitted from integer arrays
(:func:`fresh_records`, ``tiebreak.core.metrics.lc_fast``), or the pandas path for the options
the others do not cover (:func:`compute`: published LC files, bootstrap, AlpacaEval's CSV).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiebreak.core.crowd.selection import annotation_ids_of, excluded_workers
from tiebreak.core.metrics import EmptySelection, MetricsError, lc_cache
from tiebreak.core.metrics.lc_refresh import DEFAULT_MIN_MODELS
from tiebreak.core.store import Store

if TYPE_CHECKING:  # pandas and scipy only on the paths that need them
    import pandas as pd

    from tiebreak.core.metrics.lc import PublishedLC

__all__ = ["BoardOptions", "cached_records", "fresh_records", "compute", "save_cache"]


@dataclass(frozen=True)
class BoardOptions:
    """What a model leaderboard shows and how its LC and intervals are computed (the CLI's options).

    Attributes
    ----------
    annotator, reference : str, optional
        Only this annotator group / reference generator (default: all).
    csv : bool
        For AlpacaEval's leaderboard CSV: one panel only (several are an error naming them).
    lc_weights, lc_difficulty : str, optional
        AlpacaEval's GLM weights and an instruction difficulty table (CSV paths).
    lc_annotator, lc_baseline : str, optional
        Annotator and baseline the LC weights belong to (default: from the weights path).
    min_models : int
        Models needed to estimate the instruction difficulty.
    resamples : int
        BCa bootstrap resamples per model (0: analytic Wilson intervals only).
    exclude : sequence of str, optional
        Annotator names whose labels are left out (besides workers excluded from crowd rounds).
    """

    annotator: str | None = None
    reference: str | None = None
    csv: bool = False
    lc_weights: str | None = None
    lc_difficulty: str | None = None
    lc_annotator: str | None = None
    lc_baseline: str | None = None
    min_models: int = DEFAULT_MIN_MODELS
    resamples: int = 0
    exclude: tuple[str, ...] | None = None


def _cache_method(opts: BoardOptions) -> str | None:
    """The LC cache's method key of ``opts`` (None: not cacheable)."""
    if opts.lc_weights and not opts.lc_difficulty:
        return None  # an error: the computation reports it
    return lc_cache.method_key(opts.min_models, opts.lc_weights, opts.lc_difficulty, opts.lc_annotator,
                               opts.lc_baseline)  # fmt: skip


def _selection(opts: BoardOptions) -> dict[str, list[str] | None]:
    return {"groups": [opts.annotator] if opts.annotator else None,
            "references": [opts.reference] if opts.reference else None}  # fmt: skip


def cached_records(store: Store, opts: BoardOptions) -> list[dict[str, object]] | None:
    """The leaderboard as plain records (fractions) when every row's LC is cached, else None; no pandas.

    Only for the options the cache covers: no bootstrap (``--resamples 0``), no excluded worker,
    readable LC files. The win-rate columns come from the trigger-kept sums, LC and the Wilson
    interval from the cache (valid for the current data version): the same numbers as :func:`compute`.
    """
    from tiebreak.core.metrics import board_rows
    from tiebreak.core.metrics import sql as q

    method = _cache_method(opts)
    if method is None or opts.resamples > 0:
        return None
    with store.snapshot():
        rows = board_rows.sums_rows(store, **_selection(opts))
        if not rows or annotation_ids_of(store, excluded_workers(store, opts.exclude)):
            return None  # no rows: compute() says why; labels of excluded workers: the sums include them
        cached = lc_cache.lookup(store, [k for k, _ in rows], method, lc_cache.versions(store))
        lengths = q.avg_lengths(store) if cached is not None else {}
    return None if cached is None else board_rows.records(rows, lengths, cached)


def fresh_records(store: Store, opts: BoardOptions) -> list[dict[str, object]] | None:
    """The leaderboard as plain records with LC fitted without pandas, or None when the options need pandas.

    For the fitted LC methods without bootstrap or LC files (the common case): the panels the
    cache does not hold are fitted from integer arrays and stored in the cache
    (``tiebreak.core.metrics.lc_fast``), the same numbers as :func:`compute`. None also for an
    empty selection (:func:`compute` says why).
    """
    method = _cache_method(opts)
    if method is None or opts.resamples > 0 or opts.lc_weights or opts.lc_difficulty:
        return None
    from tiebreak.core.metrics.lc_fast import fresh_records as fresh

    names = excluded_workers(store, opts.exclude)
    excluded = sorted(names) if annotation_ids_of(store, names) else []
    return fresh(store, method=method, min_models=opts.min_models, excluded=excluded, **_selection(opts))


def compute(store: Store, opts: BoardOptions, bootstrap: bool = True) -> pd.DataFrame:
    """The full leaderboard for the selection in ``opts`` (fraction scale).

    LC and the Wilson intervals come from the LC cache for every (annotator group, reference)
    panel it holds at the current data version; the other panels are computed from the
    annotation rows and stored in the cache (when the database can be written now; else the
    pending rows are left in ``table.attrs["lc_cache"]`` for :func:`save_cache`). With bootstrap
    the intervals are always computed from the rows (slow: one bootstrap per model); LC then
    comes from the cache when it holds every row.
    """
    from tiebreak.core.metrics import sql as q
    from tiebreak.core.metrics.leaderboard import combine_parts
    from tiebreak.core.metrics.winrate import from_sums

    boot = bootstrap and opts.resamples > 0
    method = _cache_method(opts)
    # The AlpacaEval row comes from the trigger-kept sums; the frame feeds LC and intervals.
    # Both are read in one read transaction: one snapshot, even while another process labels.
    with store.snapshot():
        sums = q.winrate_sums(store, **_selection(opts))
        lengths = q.avg_lengths(store)
        rows = from_sums(sums, lengths)
        dropped = annotation_ids_of(store, excluded_workers(store, opts.exclude))
        versions = lc_cache.versions(store) if method is not None and not dropped else None
        keys = list(rows.index)
        found = lc_cache.current(store, keys, method, versions) if method is not None and versions else {}
        if opts.csv and len({k[1:] for k in keys}) > 1:
            found = {}  # several panels in a CSV: the fresh path names them in its error
        complete = bool(keys) and len(found) == len(keys)
        if not complete or boot:
            frame = q.lean_frame(store, **_selection(opts))  # integer reads, no texts
    if complete and not boot:
        return combine_parts(rows, *_cached_parts(found))
    table, lc, iv = _fresh(store, opts, frame, rows, lengths, dropped, bootstrap=bootstrap, found=found)
    if method is not None and versions is not None and not boot and len(lc):
        pending = lc_cache.pending(lc, iv, method, versions)
        if not lc_cache.save(store, pending):
            table.attrs["lc_cache"] = pending
    return table


def save_cache(store: Store, table: pd.DataFrame) -> bool:
    """Store the LC cache rows :func:`compute` could not store (it ran inside a read snapshot)."""

    pending = table.attrs.pop("lc_cache", None)
    return pending is not None and lc_cache.save(store, pending)


def _cached_parts(cached: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The LC table and the interval table (no BCa) from cached rows."""
    import pandas as pd

    from tiebreak.core.metrics.lc import LC_COLUMNS, LC_KEYS

    index = pd.MultiIndex.from_tuples(list(cached), names=LC_KEYS)
    values = list(cached.values())
    lc = pd.DataFrame([v[:4] for v in values], index=index, columns=LC_COLUMNS)
    iv = pd.DataFrame([(v[4], v[5], float("nan"), float("nan"), v[6]) for v in values], index=index,
                      columns=["wilson_low", "wilson_high", "bca_low", "bca_high", "interval_note"])  # fmt: skip
    return lc, iv


def _whole_panels(found: dict, keys: list) -> dict:
    """The cached rows of the panels (reference, group) whose every row is cached."""
    stale = {k[1:] for k in keys if k not in found}
    return {k: v for k, v in found.items() if k[1:] not in stale}


def _fresh(store: Store, opts: BoardOptions, frame: pd.DataFrame, rows: pd.DataFrame,
           lengths: dict[str, int], dropped: set[int], *, bootstrap: bool,
           found: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The leaderboard with LC and intervals computed from the annotation rows: (table, LC, intervals).

    The panels whose every row is in ``found`` (cached) are not computed again: their cached rows
    join the table, and the returned LC and interval tables hold only what was computed. With
    bootstrap, LC is reused only when every row is cached, and the intervals are all computed.
    """
    import pandas as pd

    from tiebreak.core.metrics.intervals import DEFAULT_SEED, interval_table
    from tiebreak.core.metrics.leaderboard import combine_parts, leaderboard_parts
    from tiebreak.core.metrics.winrate import DEFAULT_KEYS

    frame, stored_rows = _checked(opts, frame, rows, dropped)
    boot = bootstrap and opts.resamples > 0
    if boot and stored_rows is not None and len(found) == len(rows):  # LC cached: intervals only
        lc = _cached_parts(found)[0]
        iv = interval_table(frame, DEFAULT_KEYS, n_resamples=max(opts.resamples, 1), seed=DEFAULT_SEED)
        return combine_parts(stored_rows, lc, iv), lc.iloc[:0], iv.iloc[:0]
    reused = {} if boot else _whole_panels(found, list(rows.index))
    options: dict[str, Any] = {"avg_lengths": lengths, "published": _published(store, opts), "min_models": opts.min_models,
                               "bootstrap": boot, "n_resamples": max(opts.resamples, 1), "seed": DEFAULT_SEED}  # fmt: skip
    if reused and stored_rows is not None:  # only the panels not cached are computed
        panels = list({k[1:] for k in reused})
        in_frame = pd.MultiIndex.from_arrays([frame["generator_1"], frame["annotator"]]).isin(panels)
        idx = stored_rows.index
        in_rows = pd.MultiIndex.from_arrays([idx.get_level_values("generator_1"), idx.get_level_values("annotator")])
        _, lc, iv = leaderboard_parts(frame[~in_frame], rows=stored_rows[~in_rows.isin(panels)], **options)
        cached_lc, cached_iv = _cached_parts(reused)
        return combine_parts(stored_rows, pd.concat([lc, cached_lc]), pd.concat([iv, cached_iv])), lc, iv
    new_rows, lc, iv = leaderboard_parts(frame, rows=stored_rows, **options)
    return combine_parts(new_rows, lc, iv), lc, iv


def _checked(opts: BoardOptions, frame: pd.DataFrame, rows: pd.DataFrame,
             dropped: set[int]) -> tuple[pd.DataFrame, pd.DataFrame | None]:  # fmt: skip
    """The frame without excluded workers and the stored rows (None when workers are excluded);
    CliError for an empty selection or a CSV of several panels."""
    stored_rows: pd.DataFrame | None = rows
    if dropped:  # the stored sums include the excluded workers: recompute the rows from the frame
        frame, stored_rows = frame[~frame["annotation_id"].isin(dropped)], None
    if frame.empty:
        raise EmptySelection(
            "no annotations in this selection (import some, or check --annotator/--reference)"
        )
    if opts.csv:
        panels = frame[["generator_1", "annotator"]].drop_duplicates().sort_values(["annotator"])
        if len(panels) > 1:
            choices = ", ".join(
                f"--annotator {a} --reference {r}" for r, a in panels.itertuples(index=False)
            )
            raise MetricsError(
                f"the CSV holds one annotator and reference; choose one of: {choices}"
            )
    return frame, stored_rows


def _published(store: Store, opts: BoardOptions) -> PublishedLC | None:
    """The LC weights and difficulty table of ``--lc-weights`` / ``--lc-difficulty`` (None without)."""
    from tiebreak.core.metrics import sql as q
    from tiebreak.core.metrics.lc import PublishedLC

    if opts.lc_weights and not opts.lc_difficulty:
        raise MetricsError("--lc-weights needs --lc-difficulty (the instruction difficulty table)")
    if not opts.lc_difficulty:
        return None
    # alone: every model fitted with AlpacaEval's GLM on that difficulty
    ids = functools.partial(q.instruction_ids_by_text, store)
    return PublishedLC.from_files(opts.lc_weights, opts.lc_difficulty, ids, opts.lc_annotator, opts.lc_baseline)
