"""Keep the default leaderboard warm: refit the LC panels a write made stale, right after it commits.

An import, a judge run or a crowd merge adds annotations and so makes the LC panels they touch
stale (``tiebreak.core.metrics.lc_cache``); the next ``tiebreak leaderboard`` would refit them
(about 0.7 s at 170,000 annotations). The writers call :func:`refresh_stale_lc` at their end,
after their data committed: one read snapshot and one short cache write, through the
leaderboard's own pandas-free path (``tiebreak.core.metrics.lc_fast``), for the default options
(fitted LC, ``--min-models 3``, every annotator group and reference). It never raises: a locked,
read-only or broken database leaves the cache stale (logged) and the next leaderboard refits.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from tiebreak.core.store import Store

__all__ = ["DEFAULT_MIN_MODELS", "LcRefresh", "refresh_stale_lc"]

#: ``tiebreak leaderboard --min-models``'s default (the method whose panels are refreshed).
DEFAULT_MIN_MODELS = 3
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LcRefresh:
    """What a refresh did.

    Attributes
    ----------
    panels : int
        Stale (annotator group, reference) panels fitted.
    rows : int
        Leaderboard rows fitted (stored when ``stored``).
    seconds : float
        Wall time of the refresh.
    stored : bool
        The fitted rows are in the cache (False also when nothing was stale).
    problem : str or None
        Why the cache was left stale (the refresh failed or could not write); None otherwise.
    unused : bool
        Nothing was fitted because the default leaderboard does not use the cache now (labels of
        workers excluded from a crowd round: it recomputes without them).
    """

    panels: int
    rows: int
    seconds: float
    stored: bool
    problem: str | None = None
    unused: bool = False

    def line(self) -> str:
        """One line for the user: what was refreshed and how long it took, or why not."""
        if self.unused:
            return (f"leaderboard cache: not used while crowd workers are excluded (the leaderboard recomputes) "
                    f"({self.seconds:.2f} s)")  # fmt: skip
        if self.problem is not None:
            return (f"leaderboard cache not refreshed ({self.problem}); the next leaderboard refits it "
                    f"({self.seconds:.2f} s)")  # fmt: skip
        if not self.panels:
            return f"leaderboard cache: current ({self.seconds:.2f} s)"
        return (f"leaderboard cache: {self.panels} panel(s), {self.rows} row(s) refitted in "
                f"{self.seconds:.2f} s")  # fmt: skip


def refresh_stale_lc(store: Store, *, min_models: int = DEFAULT_MIN_MODELS) -> LcRefresh:
    """Fit and store the stale LC panels of the default leaderboard; never raises.

    Call it after the write has committed, never inside a transaction (it would see and
    version uncommitted rows; it is then skipped and says so). The cache write waits at most
    ``lc_cache.SAVE_WAIT_MS`` for another writer.

    Parameters
    ----------
    store : Store
        The database, on the calling thread's connection (a worker's, never the GUI thread's: the
        fit takes about 0.7 s at 170,000 annotations).
    min_models : int
        Fewer candidates in a panel: fitted without difficulty (the leaderboard's default).

    Returns
    -------
    LcRefresh
    """
    start = time.perf_counter()
    if store.in_transaction:
        return _done(LcRefresh(0, 0, 0.0, False, "inside a transaction"), start)
    try:
        from tiebreak.core.crowd.selection import annotation_ids_of, excluded_workers
        from tiebreak.core.metrics import lc_cache

        if annotation_ids_of(store, excluded_workers(store, None)):  # the leaderboard bypasses the cache
            return _done(LcRefresh(0, 0, 0.0, False, unused=True), start)
        from tiebreak.core.metrics.lc_fast import fit_stale

        method = lc_cache.method_key(min_models)
        assert method is not None  # no LC files: always cacheable
        fitted = fit_stale(store, method=method, min_models=min_models, lengths=False)
        if fitted is None or not fitted.computed:
            return _done(LcRefresh(0, 0, 0.0, False), start)
        stored = fitted.save(store, method)
    except Exception as exc:  # noqa: BLE001 - the write it follows has committed: never fail it
        _log.warning("LC cache refresh failed", exc_info=True)
        return _done(LcRefresh(0, 0, 0.0, False, f"{type(exc).__name__}: {exc}"), start)
    problem = None if stored else "the database is busy or cannot be written"
    return _done(LcRefresh(len(fitted.stale), len(fitted.computed), 0.0, stored, problem), start)


def _done(result: LcRefresh, start: float) -> LcRefresh:
    """``result`` with its wall time, logged."""
    done = replace(result, seconds=time.perf_counter() - start)
    _log.info("%s", done.line())
    return done
