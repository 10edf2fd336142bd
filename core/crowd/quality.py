"""Annotator quality for crowd-style labelling: per-annotator figures and item overlap (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tiebreak.core.errors import TiebreakError
from tiebreak.core.metrics.agreement import agreement_with_others, categories, dawid_skene_one_coin

if TYPE_CHECKING:
    from tiebreak.core.crowd.status import RoundData
    from tiebreak.core.store import Store

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_TOO_FAST",
    "MIN_SHARED",
    "TOO_FEW_NOTE",
    "CrowdError",
    "CrowdReport",
    "label_matrix",
    "annotator_quality",
    "item_coverage",
    "crowd_report",
    "round_quality",
    "NOT_ENOUGH",
]

#: Target number of labels per item.
DEFAULT_OVERLAP = 3
#: Median active seconds per label below which an annotator is flagged "too fast".
DEFAULT_TOO_FAST = 5.0
#: Shared items an annotator needs before a quality score means anything (docs/statistics.md §6).
MIN_SHARED = 10
TOO_FEW_NOTE = "too few shared items for a quality score"
#: Columns of :func:`annotator_quality`.
ANNOTATOR_COLUMNS = (
    "annotator", "n_labels", "n_shared", "tie_share", "median_seconds", "too_fast", "too_few",
    "agreement", "ds_accuracy", "note",
)  # fmt: skip


class CrowdError(TiebreakError, ValueError):
    """The frame cannot give crowd figures (unknown group, no parsed label, bad setting)."""


@dataclass
class CrowdReport:
    """Per-annotator figures, per-item coverage and notes for one annotator group."""

    group: str
    annotators: pd.DataFrame
    items: pd.DataFrame
    overlap: int
    too_fast: float
    notes: list[str] = field(default_factory=list)

    @property
    def under_annotated(self) -> pd.DataFrame:
        """Items with fewer than ``overlap`` live labels."""
        return self.items[~self.items["reaches_overlap"]]


def _group_labels(frame: pd.DataFrame, group: str, notes: list[str]) -> pd.DataFrame:
    """Live, parsed labels of ``group``, one per (annotator, comparison) (the latest kept)."""
    known = sorted(set(frame["annotator"].dropna()))
    if group not in known:
        raise CrowdError(f"unknown annotator group {group!r} (known: {', '.join(known) or 'none'})")
    rows = frame[frame["annotator"] == group]
    if "retracted_at" in rows.columns:
        rows = rows[rows["retracted_at"].isna()]
    pref = pd.to_numeric(rows["preference"], errors="coerce").astype(float)
    n_unparsed = int(pref.isna().sum())
    if n_unparsed:
        notes.append(f"{group}: {n_unparsed} label(s) without a parsed preference left out")
    rows = rows.assign(preference=pref.to_numpy())[pref.notna().to_numpy()]
    if rows.empty:
        raise CrowdError(f"annotator group {group!r} has no live parsed label")
    rows = rows.sort_values("annotation_id")
    latest = rows.drop_duplicates(["annotator_name", "comparison_id"], keep="last")
    n_dup = len(rows) - len(latest)
    if n_dup:
        notes.append(f"{group}: {n_dup} repeated label(s) of the same item by the same annotator; the latest kept")
    return latest


def label_matrix(labels: pd.DataFrame) -> pd.DataFrame:
    """Items x annotators matrix of preferences (NaN = not labelled); index comparison_id.

    Parameters
    ----------
    labels : pandas.DataFrame
        One row per (annotator_name, comparison_id) with a float ``preference``.
    """
    return labels.pivot(index="comparison_id", columns="annotator_name", values="preference").astype(float)


def annotator_quality(
    frame: pd.DataFrame, group: str, *, too_fast: float = DEFAULT_TOO_FAST, min_shared: int = MIN_SHARED,
    notes: list[str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Per annotator of ``group``: volume, ties, speed and agreement with the other annotators.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``Store.annotations_frame()`` columns (annotation_id, comparison_id, annotator,
        annotator_name, preference, time_per_example; retracted_at if present).
    group : str
        Annotator group (e.g. ``"humans"``); each ``annotator_name`` in it is one worker.
    too_fast : float
        Seconds; a median active time below it sets ``too_fast`` (unknown time never does).
    min_shared : int
        Fewer shared items than this sets ``too_few`` and the note :data:`TOO_FEW_NOTE`.
    notes : list of str, optional
        Receives notes about left-out labels.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ANNOTATOR_COLUMNS`. ``agreement`` is AlpacaEval's 1 - |x - maj| against
        the majority (mode, documented tie rule) of the OTHER annotators on shared items
        (:func:`tiebreak.core.metrics.agreement.agreement_with_others`); ``ds_accuracy`` is the one-coin
        Dawid-Skene accuracy on the three-way categories; fractions, not percentages.
    """
    if not (too_fast >= 0):
        raise CrowdError(f"too-fast threshold must be a non-negative number of seconds, got {too_fast}")
    notes = [] if notes is None else notes
    labels = _group_labels(frame, group, notes)
    matrix = label_matrix(labels)
    values = matrix.to_numpy()
    present = ~np.isnan(values)
    others = present.sum(axis=1, keepdims=True) - present
    n_shared = (present & (others > 0)).sum(axis=0)
    agreement = agreement_with_others(values)
    _, _, accuracy = dawid_skene_one_coin(categories(values))
    seconds = pd.to_numeric(labels["time_per_example"], errors="coerce").astype(float)
    median = labels.assign(s=seconds.to_numpy()).groupby("annotator_name")["s"].median()
    n_no_time = int(seconds.isna().sum())
    if n_no_time:
        notes.append(f"{group}: {n_no_time} label(s) without recorded seconds (not in the median)")
    rows = []
    for j, name in enumerate(matrix.columns):
        col = values[present[:, j], j]
        med = float(median.get(name, np.nan))
        fast = bool(not np.isnan(med) and med < too_fast)
        few = bool(n_shared[j] < min_shared)
        note = [f"too fast: median {med:.1f} s < {too_fast:g} s"] if fast else []
        note += [f"{TOO_FEW_NOTE} ({int(n_shared[j])} < {min_shared})"] if few else []
        rows.append({
            "annotator": str(name), "n_labels": int(len(col)), "n_shared": int(n_shared[j]),
            "tie_share": float(np.mean(categories(col) == 1)), "median_seconds": med,
            "too_fast": fast, "too_few": few, "agreement": float(agreement[j]),
            "ds_accuracy": float(accuracy[j]), "note": "; ".join(note),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(ANNOTATOR_COLUMNS))


def item_coverage(
    frame: pd.DataFrame, group: str, *, overlap: int = DEFAULT_OVERLAP, notes: list[str] | None = None
) -> pd.DataFrame:
    """Per item labelled by ``group``: live parsed labels and whether it reaches ``overlap``.

    Returns
    -------
    pandas.DataFrame
        Columns comparison_id, n_labels, reaches_overlap; fewest labels first. Items with no
        label from the group are not in the frame and so not listed.
    """
    if overlap < 1:
        raise CrowdError(f"target overlap must be at least 1, got {overlap}")
    labels = _group_labels(frame, group, [] if notes is None else notes)
    counts = labels.groupby("comparison_id").size().rename("n_labels").reset_index()
    counts["n_labels"] = counts["n_labels"].astype(int)
    counts["reaches_overlap"] = counts["n_labels"] >= overlap
    return counts.sort_values(["n_labels", "comparison_id"], kind="stable").reset_index(drop=True)


def crowd_report(
    frame: pd.DataFrame, group: str, *, overlap: int = DEFAULT_OVERLAP, too_fast: float = DEFAULT_TOO_FAST,
    min_shared: int = MIN_SHARED,
) -> CrowdReport:  # fmt: skip
    """Both tables for ``group`` with the notes (left-out labels, flags, listing scope)."""
    notes: list[str] = []
    table = annotator_quality(frame, group, too_fast=too_fast, min_shared=min_shared, notes=notes)
    items = item_coverage(frame, group, overlap=overlap)
    n_fast, n_few = int(table["too_fast"].sum()), int(table["too_few"].sum())
    if n_fast:
        notes.append(f"{n_fast} annotator(s) too fast (median active time < {too_fast:g} s)")
    if n_few:
        notes.append(f"{n_few} annotator(s) with fewer than {min_shared} shared items: {TOO_FEW_NOTE}")
    n_under = int((~items["reaches_overlap"]).sum())
    notes.append(
        f"{n_under} of {len(items)} item(s) below the target overlap of {overlap} label(s) "
        f"(items without any label from {group} are not counted)"
    )
    return CrowdReport(group, table, items, overlap, too_fast, notes)


# -- per-round quality (gold, self-consistency, position bias, agreement, Dawid-Skene) ---------------
#: A worker is FLAGGED when one of these holds (documented in docs/crowd.md):
#: gold accuracy's Wilson upper bound below GOLD_FLAG (at least GOLD_MIN gold answers);
#: leave-one-out agreement below AGREEMENT_FLAG (at least MIN_SHARED shared items);
#: a share of "left" answers outside [1 - LEFT_FLAG, LEFT_FLAG] (at least LEFT_MIN answers);
#: median active seconds below DEFAULT_TOO_FAST.
GOLD_FLAG, GOLD_MIN = 0.75, 5
AGREEMENT_FLAG = 0.65
LEFT_FLAG, LEFT_MIN = 0.8, 20
NOT_ENOUGH = "not enough overlap"
ROUND_COLUMNS = (
    "annotator", "excluded", "n_labels", "gold_n", "gold_accuracy", "gold_low", "gold_high", "repeat_n",
    "self_consistency", "left_share", "median_seconds", "n_shared", "agreement", "ds_accuracy", "status", "reasons",
)  # fmt: skip


def _labels_frame(data: RoundData, names: dict[int, str], group: str) -> pd.DataFrame:
    """Winning labels on ordinary and gold items as an annotations-like frame."""
    from tiebreak.core.crowd.gold import preference_of

    rows = []
    for (aid, key), ev in data.winners.items():
        item = data.items.get(key)
        if item is None or item["kind"] not in ("item", "gold") or aid not in names:
            continue
        rows.append((int(ev["seq"] or 0), item["comparison_id"], group, names[aid],
                     preference_of(ev["choice"], ev["swapped"]), ev["seconds"]))  # fmt: skip
    cols = ["annotation_id", "comparison_id", "annotator", "annotator_name", "preference", "time_per_example"]
    return pd.DataFrame(rows, columns=cols)


def _worker_row(q: pd.Series | None, checks: dict[str, int], lefts: list[int], excluded: bool, name: str) -> dict[str, Any]:
    from tiebreak.core.crowd.gold import wilson

    gn, gk = checks.get("gold_n", 0), checks.get("gold_ok", 0)
    low, high = wilson(gk, gn)
    rn, rk = checks.get("repeat_n", 0), checks.get("repeat_ok", 0)
    n_left, n_sided = lefts
    shared = int(q["n_shared"]) if q is not None else 0
    enough = shared >= MIN_SHARED
    row: dict[str, Any] = {"annotator": name, "excluded": excluded, "n_labels": int(q["n_labels"]) if q is not None else 0,
           "gold_n": gn, "gold_accuracy": gk / gn if gn else np.nan, "gold_low": low, "gold_high": high,
           "repeat_n": rn, "self_consistency": rk / rn if rn else np.nan,
           "left_share": n_left / n_sided if n_sided else np.nan,
           "median_seconds": float(q["median_seconds"]) if q is not None else np.nan, "n_shared": shared,
           "agreement": float(q["agreement"]) if q is not None and enough else np.nan,
           "ds_accuracy": float(q["ds_accuracy"]) if q is not None and enough else np.nan}  # fmt: skip
    reasons = []
    if gn >= GOLD_MIN and high < GOLD_FLAG:
        reasons.append(f"gold accuracy {gk}/{gn} (95% CI {low:.2f}-{high:.2f}) below {GOLD_FLAG:g}")
    if enough and row["agreement"] < AGREEMENT_FLAG:
        reasons.append(f"agreement with the others {row['agreement']:.2f} < {AGREEMENT_FLAG:g}")
    if n_sided >= LEFT_MIN and not (1 - LEFT_FLAG <= row["left_share"] <= LEFT_FLAG):
        reasons.append(f"position bias: {row['left_share']:.0%} of answers 'left'")
    if not np.isnan(row["median_seconds"]) and row["median_seconds"] < DEFAULT_TOO_FAST:
        reasons.append(f"too fast: median {row['median_seconds']:.1f} s < {DEFAULT_TOO_FAST:g} s")
    row["status"] = "FLAGGED" if reasons else ("ok" if enough else NOT_ENOUGH)
    row["reasons"] = "; ".join(reasons + ([] if enough else [f"{NOT_ENOUGH} ({shared} < {MIN_SHARED} shared items)"]))
    return row


def round_quality(store: Store, name: str, data: RoundData | None = None) -> pd.DataFrame:
    """Per worker of a round: gold accuracy (Wilson 95%), self-consistency, left share, speed,
    leave-one-out agreement and one-coin Dawid-Skene accuracy, with a status (ok / FLAGGED /
    not enough overlap) and the reasons.

    Agreement and Dawid-Skene of the kept workers use only the kept workers; an excluded worker is
    scored against the kept ones (its labels never enter anyone else's majority). Gold items count
    for everyone (all labels, no per-item cap).
    """
    from tiebreak.core.crowd.gold import check_scores
    from tiebreak.core.crowd.status import load_round

    d = data or load_round(store, name)
    group = d.round["group_name"]
    kept = {a: w["name"] for a, w in d.workers.items() if w["excluded_at"] is None}
    out = {a: w["name"] for a, w in d.workers.items() if w["excluded_at"] is not None}
    checks = check_scores(d.winners, d.items)
    lefts: dict[int, list[int]] = {}
    for (aid, _key), ev in d.winners.items():
        if ev["choice"] in ("left", "right", "tie_good", "tie_bad"):
            c = lefts.setdefault(aid, [0, 0])
            c[0] += ev["choice"] == "left"
            c[1] += 1
    tables: dict[int, pd.Series] = {}
    for members in [kept] + [{**kept, a: n} for a, n in out.items()]:
        frame = _labels_frame(d, members, group)
        if frame.empty:
            continue
        q = annotator_quality(frame, group).set_index("annotator")
        for a, n in members.items():
            if n in q.index and (a in out or a not in tables):
                tables[a] = q.loc[n]
    rows = [_worker_row(tables.get(a), checks.get(a, {}), lefts.get(a, [0, 0]), a in out, w["name"])
            for a, w in d.workers.items()]  # fmt: skip
    return pd.DataFrame(rows, columns=list(ROUND_COLUMNS))
