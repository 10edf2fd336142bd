"""The leaderboard's cache of per-row LC fits and Wilson intervals, valid for one data version; no pandas.

A fit of the length-controlled win rate needs every annotation row of its (annotator group,
reference) panel, read into a frame (about 3 s at 170,000 annotations with the imports). Its
result only changes when that panel's annotations change, so it is kept in the ``lc_cache``
table (migration ``0009_lbperf_lc_cache``) with the two data versions it was computed at: the
panel's ``lc_panel_versions.version`` (triggers bump it when an annotation of the panel is
inserted, updated, retracted or deleted) and ``lc_data_version.version`` (bumped when
annotators are regrouped or outputs, comparisons, texts or instructions change). A cached row
is served only while both still match, so it can never be stale; the method key says with which
options (and which LC weight and difficulty files, by content) it was computed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tiebreak.core.store import Store, StoreError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMAT", "CACHED", "Key", "Versions", "Pending", "method_key", "versions", "current", "lookup", "pending", "save"]

#: Bump when the LC fit or the Wilson interval change: rows cached by an older Tiebreak are then unused.
FORMAT = 1
#: The cached columns of one leaderboard row, in order (the LC table's and the interval table's).
CACHED = ("length_controlled_winrate", "lc_standard_error", "lc_method", "lc_note", "wilson_low", "wilson_high",
          "interval_note")  # fmt: skip
#: Longest wait for another program's write lock when storing (storing is optional: skipped after it).
SAVE_WAIT_MS = 100
_FLOATS = (0, 1, 4, 5)  # positions of CACHED holding floats (NaN is stored as NULL)
_log = logging.getLogger(__name__)

#: A leaderboard row: (generator_2, generator_1, annotator group).
Key = tuple[str, str, str]


@dataclass(frozen=True)
class Versions:
    """The data versions of one read snapshot: global, and per (annotator group, reference) panel."""

    data: int
    panels: dict[tuple[str, str], int]

    def panel(self, annotator: str, reference: str) -> int:
        """The version of one panel (0 before its first change since the cache exists)."""
        return self.panels.get((annotator, reference), 0)


@dataclass(frozen=True)
class Pending:
    """Rows computed on a cache miss, not yet stored (the database was busy or in a read transaction)."""

    method: str
    versions: Versions
    rows: tuple[tuple[Key, tuple], ...]


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def method_key(min_models: int, lc_weights: str | None = None, lc_difficulty: str | None = None,
               lc_annotator: str | None = None, lc_baseline: str | None = None) -> str | None:  # fmt: skip
    """The cache's method key for these LC options; None when they cannot be cached (a file unreadable).

    Parameters
    ----------
    min_models : int
        ``--min-models``.
    lc_weights, lc_difficulty : str, optional
        ``--lc-weights`` and ``--lc-difficulty`` paths (their contents are part of the key).
    lc_annotator, lc_baseline : str, optional
        ``--lc-annotator`` and ``--lc-baseline`` (default: read from the weights path).
    """
    key: list[object] = [FORMAT, "min_models", min_models]
    for name, path in (("difficulty", lc_difficulty), ("weights", lc_weights)):
        digest = _digest(path) if path else ""
        if digest is None:
            return None  # unreadable: the computation itself reports it
        key += [name, digest]
    if lc_weights:
        from tiebreak.core.metrics.lc_alpaca import names_from_weights_path

        found = names_from_weights_path(lc_weights)
        key += [lc_annotator or found[0], lc_baseline or found[1]]
    return json.dumps(key, ensure_ascii=False)


def versions(store: Store) -> Versions:
    """The current data versions (call inside the snapshot the computation reads)."""
    data = store.conn.execute("SELECT version FROM lc_data_version WHERE id = 1").fetchone()
    panels = {(a, r): v for a, r, v in store.conn.execute("SELECT annotator, reference, version FROM lc_panel_versions")}
    return Versions(data[0] if data else -1, panels)


def current(store: Store, keys: Sequence[Key], method: str, now: Versions) -> dict[Key, tuple]:
    """The cached :data:`CACHED` values of those ``keys`` whose row is current (the others are left out).

    Parameters
    ----------
    store : Store
        The database, inside the read snapshot ``now`` was taken in.
    keys : sequence of Key
        The rows the leaderboard shows.
    method : str
        :func:`method_key` of the options.
    now : Versions
        :func:`versions` of the same snapshot.
    """
    found: dict[Key, tuple] = {}
    rows = store.conn.execute(
        "SELECT model, reference, annotator, data_version, panel_version, lc, lc_se, lc_method, lc_note,"
        " wilson_low, wilson_high, interval_note FROM lc_cache WHERE method = ?", [method]
    )  # fmt: skip
    for model, reference, annotator, data, panel, *values in rows:
        if data == now.data and panel == now.panel(annotator, reference):
            found[(model, reference, annotator)] = tuple(math.nan if v is None else v for v in values)
    return {k: found[k] for k in keys if k in found}


def lookup(store: Store, keys: Sequence[Key], method: str, now: Versions) -> dict[Key, tuple] | None:
    """:func:`current`, or None unless every key is current (and there is at least one)."""
    found = current(store, keys, method, now)
    return found if keys and len(found) == len(keys) else None


def pending(lc: pd.DataFrame, iv: pd.DataFrame, method: str, current: Versions) -> Pending:
    """The rows to cache from a fresh computation: the LC table and the interval table (same index).

    Parameters
    ----------
    lc : pandas.DataFrame
        :func:`~tiebreak.core.metrics.lc.length_controlled`'s table.
    iv : pandas.DataFrame
        :func:`~tiebreak.core.metrics.intervals.interval_table`'s table, computed without bootstrap.
    method : str
        :func:`method_key` of the options.
    current : Versions
        The versions of the snapshot both tables were computed from.
    """
    lc_part = lc[list(CACHED[:4])]
    iv_part = iv[list(CACHED[4:])]
    both = lc_part.join(iv_part, how="inner")
    rows = tuple(
        (key, tuple(float(v) if i in _FLOATS else str(v) for i, v in enumerate(values)))
        for key, values in zip(both.index, both.itertuples(index=False, name=None), strict=True)
    )
    return Pending(method, current, rows)


def _params(p: Pending) -> Iterable[tuple]:
    for (model, reference, annotator), values in p.rows:
        clean = tuple(None if i in _FLOATS and math.isnan(v) else v for i, v in enumerate(values))
        yield (annotator, reference, model, p.method, p.versions.data, p.versions.panel(annotator, reference), *clean)


_UPSERT = """
    INSERT INTO lc_cache (annotator, reference, model, method, data_version, panel_version, lc, lc_se, lc_method,
                          lc_note, wilson_low, wilson_high, interval_note)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (annotator, reference, model, method) DO UPDATE SET
        data_version = excluded.data_version, panel_version = excluded.panel_version, lc = excluded.lc,
        lc_se = excluded.lc_se, lc_method = excluded.lc_method, lc_note = excluded.lc_note,
        wilson_low = excluded.wilson_low, wilson_high = excluded.wilson_high, interval_note = excluded.interval_note
"""


def save(store: Store, p: Pending) -> bool:
    """Store ``p`` in one transaction; False (nothing stored) when that cannot be done now.

    Never inside another transaction or read snapshot (its versions would be mixed up), and never
    waiting more than :data:`SAVE_WAIT_MS` (nor the store's own busy timeout) for the write lock: a
    read-only, busy, full or otherwise unwritable database just stays uncached (logged).
    """
    if store.in_transaction or not p.rows:
        return False
    try:
        with store.busy_timeout(min(store.busy_timeout_ms, SAVE_WAIT_MS)), store.transaction() as tx:
            tx.executemany(_UPSERT, list(_params(p)))
    except StoreError as exc:
        _log.info("LC cache not stored: %s", exc)
        return False
    return True
