"""Audit use cases over the store: draw a random audit stream and estimate human win rates."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tiebreak.core.errors import TiebreakError
from tiebreak.core.review import sampling
from tiebreak.core.review import sql as rs
from tiebreak.core.review.estimators import (
    Estimate,
    EstimatorError,
    horvitz_thompson,
    human_only,
    judge_only,
    ppi_mean,
    reviews_needed,
)
from tiebreak.core.review.queue import judge_verdicts
from tiebreak.core.store import Store

__all__ = ["AuditError", "DrawReport", "AuditEstimate", "default_audit_group", "sample_audit", "estimate_audit",
           "judge_frame"]

SRS_DESIGNS = ("uniform", "stratified")


class AuditError(TiebreakError, ValueError):
    """An audit request that cannot be carried out (unknown judge or group, design mismatch)."""


@dataclass(frozen=True)
class DrawReport:
    """What one draw did: the stream, how many items were new, the population size."""

    audit_group: str
    draw_id: int
    design: str
    n_new: int
    n_in_stream: int
    population: int
    seed: int
    notes: tuple[str, ...] = ()


@dataclass
class AuditEstimate:
    """Estimates per model (one Estimate per method) plus the warnings the user must see."""

    judge: str
    audit: str
    design: str
    rows: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def default_audit_group(judge: str) -> str:
    """Name of a judge's default random-audit stream."""
    return f"{judge}/audit"


def judge_frame(store: Store, judge: str) -> pd.DataFrame:
    """Current verdicts of ``judge`` as a frame: comparison_id, stratum (model), judge_score."""
    ann = store.annotations_frame(groups=[judge], with_texts=False)
    ann = ann[ann["annotator_kind"] == "judge"]
    if ann.empty:
        known = ", ".join(g["group"] for g in store.groups() if g["kind"] == "judge") or "none"
        raise AuditError(f"no verdicts of judge group {judge!r} (judge groups: {known})")
    summary = judge_verdicts(ann)
    v = summary.verdicts
    out = pd.DataFrame(
        {"comparison_id": v["comparison_id"], "stratum": v["generator_2"].astype(str), "judge_score": v["f"]}
    )
    out.attrs["n_without_preference"] = summary.n_without_preference
    return out


def sample_audit(
    store: Store, judge: str, n: int, design: str = "uniform", *, audit_group: str | None = None,
    seed: int | None = None,
) -> DrawReport:
    """Draw n more items of a judge's verdicts into a random audit stream, storing every pi first.

    uniform / stratified draw without replacement from the items not drawn yet (the union of
    draws stays a simple random sample, per model for stratified); uncertainty draws a new
    independent Poisson sample over the whole frame and the union probability
    1 - prod(1 - pi_b) is stored. The frame (verdicts and models) is fixed by the first draw.
    """
    group = audit_group or default_audit_group(judge)
    prior = rs.draw_rows(store, group)
    if prior and (prior[0]["judge_group"] != judge or prior[0]["design"] != design):
        raise AuditError(
            f"audit stream {group!r} is a {prior[0]['design']} audit of judge {prior[0]['judge_group']!r};"
            f" use another --audit name for a {design} audit of {judge!r}"
        )
    fr = rs.frame(store, group) if prior else judge_frame(store, judge)
    seed = secrets.randbits(32) if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    before = _cumulative(store, group, fr["comparison_id"]) if prior else np.zeros(len(fr))
    already = _drawn_before(store, group, fr["comparison_id"]) if prior else np.zeros(len(fr), dtype=bool)
    f, strata = fr["judge_score"].to_numpy(float), fr["stratum"].to_numpy(object)
    if design in SRS_DESIGNS:
        pi, drawn, notes = _srs_batch(design, f, strata, already, n, rng)
    else:
        d = sampling.draw("uncertainty", f, n, rng)
        pi, drawn, notes = 1 - (1 - before) * (1 - d.pi), d.drawn, list(d.notes)
    if fr.attrs.get("n_without_preference"):
        notes.append(f"{fr.attrs['n_without_preference']} judge annotation(s) without a preference are "
                     "not in the frame")
    new = np.flatnonzero(drawn & ~already)
    order = new[rng.permutation(new.size)]
    with store.transaction() as tx:
        draw_id = rs.save_draw(
            tx, audit_group=group, judge_group=judge, design=design, seed=seed, n_requested=n,
            frame_rows=fr, pi=pi, drawn=drawn, order=order.tolist(), notes="; ".join(notes) or None,
        )
    return DrawReport(group, draw_id, design, int(new.size), int((already | drawn).sum()), len(fr), seed, tuple(notes))


def _cumulative(store: Store, group: str, ids: pd.Series) -> np.ndarray:
    inc = rs.inclusion(store, group)
    last = inc[inc["draw_id"] == inc["draw_id"].max()].set_index("comparison_id")["inclusion_prob"]
    return last.reindex(ids.to_numpy()).fillna(0.0).to_numpy(float)


def _drawn_before(store: Store, group: str, ids: pd.Series) -> np.ndarray:
    done = set(rs.samples(store, group, "random")["comparison_id"].astype(int))
    return np.array([int(c) in done for c in ids], dtype=bool)


def _srs_batch(design, f, strata, already, n, rng):
    """SRS without replacement of n items among those not drawn yet; cumulative probabilities."""
    keys = strata.astype(str) if design == "stratified" else np.array(["all"] * f.size)
    remaining = {k: int(((keys == k) & ~already).sum()) for k in np.unique(keys)}
    if n > sum(remaining.values()):
        raise AuditError(f"{design}: only {sum(remaining.values())} items are left to draw (asked for {n})")
    alloc = sampling.allocate({k: v for k, v in remaining.items() if v > 0}, n)
    drawn = np.zeros(f.size, dtype=bool)
    pi = np.zeros(f.size)
    for k in remaining:
        idx = np.flatnonzero(keys == k)
        free = idx[~already[idx]]
        take = alloc.get(k, 0)
        drawn[rng.choice(free, size=take, replace=False)] = True
        pi[idx] = (int(already[idx].sum()) + take) / idx.size
    if np.any(pi <= 0):
        empty = sorted({str(s) for s in strata[pi <= 0]})
        raise AuditError(f"stratified: n={n} leaves models without any draw ({', '.join(empty)}); draw more")
    return pi, drawn, []


def estimate_audit(
    store: Store, judge: str, audit: str, *, label: str = "blind", alpha: float = 0.05,
    target_width: float | None = None,
) -> AuditEstimate:
    """Per model: judge-only, human-only, PPI, PPI++ and Horvitz-Thompson estimates.

    Interval bounds are clipped to [0, 1] (a win rate cannot leave it); point estimates are
    not, and one outside [0, 1] gets a note.

    ``audit`` is a random-audit stream drawn by :func:`sample_audit`, or the name of a human
    annotator group (imported labels): those count as a uniform sample of each model's
    verdicts unless the group was marked ad-hoc, and a warning says so. ``label`` picks the
    human label of a review: "blind" (before the reveal, default) or "final" (after it).

    Methods per model (N = the model's verdicts in the frame, n = labelled ones):
    judge-only (mean f); human-only (mean Y, finite-population SE); PPI = the difference
    estimator mean_N(f) + mean_L(Y - f) with SE^2 = (1 - n/N) Var_L(Y - f) / n; PPI++ =
    ppi-python's power-tuned estimator with the unlabelled verdicts as its pool;
    Horvitz-Thompson with the stored probabilities (the only valid one for the uncertainty
    design, where the others are not reported).
    """
    if label not in ("blind", "final"):
        raise AuditError(f"label must be 'blind' or 'final' (got {label!r})")
    draws = rs.draw_rows(store, audit)
    if draws:
        fr, pi, y, design, warnings = _stream_inputs(store, judge, audit, draws, label)
    else:
        fr, pi, y, design, warnings = _group_inputs(store, judge, audit)
    out = AuditEstimate(judge, audit, design, warnings=warnings)
    for model, part in fr.groupby("stratum", sort=True):
        idx = part.index.to_numpy()
        out.rows.extend(_model_rows(str(model), part["judge_score"].to_numpy(float), pi[idx], y[idx],
                                    design, alpha, target_width))
    return out


def _stream_inputs(store, judge, audit, draws, label):
    if draws[0]["judge_group"] != judge:
        raise AuditError(f"audit stream {audit!r} audits judge {draws[0]['judge_group']!r}, not {judge!r}")
    fr = rs.frame(store, audit).reset_index(drop=True)
    design = draws[0]["design"]
    s = rs.samples(store, audit, "random")
    col = "blind_preference" if label == "blind" else "final_preference"
    labelled = s[s[col].notna()]
    ymap = dict(zip(labelled["comparison_id"].astype(int), labelled[col].astype(float) - 1, strict=True))
    y = np.array([ymap.get(int(c), np.nan) for c in fr["comparison_id"]])
    warnings = []
    pending = len(s) - len(labelled)
    if pending:
        warnings.append(f"{pending} of {len(s)} drawn items have no {label} label yet (not reviewed, or can't "
                        f"judge); estimates use the {len(labelled)} labelled ones (valid if the rest are missing "
                        "at random: finish the queue)")
    try:
        current = set(judge_frame(store, judge)["comparison_id"].astype(int))
    except AuditError:
        current = set()
    outside = len(current - set(fr["comparison_id"].astype(int)))
    if outside:
        warnings.append(f"{outside} verdict(s) of {judge!r} came after the first draw and are outside this "
                        "audit's frame (start a new audit stream to cover them)")
    if design in SRS_DESIGNS:  # the reviewed part of an SRS is an SRS: pi = labelled / N per stratum
        pi = _srs_pi(fr, y, design)
    else:  # the reviewed items are a random subsample (queue order is random) of the drawn ones
        pi = _cumulative(store, audit, fr["comparison_id"]) * (len(labelled) / max(len(s), 1))
    return fr, pi, y, design, warnings


def _srs_pi(fr: pd.DataFrame, y: np.ndarray, design: str) -> np.ndarray:
    keys = fr["stratum"] if design == "stratified" else pd.Series("all", index=fr.index)
    lab = pd.Series(~np.isnan(y), index=fr.index)
    return (lab.groupby(keys).transform("sum") / lab.groupby(keys).transform("size")).to_numpy(float)


def _group_inputs(store, judge, group):
    kinds = {g["group"]: g["kind"] for g in store.groups()}
    if kinds.get(group) != "human":
        streams = ", ".join(a["audit_group"] for a in rs.audit_groups(store)) or "none"
        humans = ", ".join(g for g, k in kinds.items() if k == "human") or "none"
        raise AuditError(f"--audit {group!r} is neither an audit stream ({streams}) nor a human group ({humans})")
    mark = rs.group_mark(store, group)
    if mark == "adhoc":
        raise AuditError(f"human group {group!r} is marked ad-hoc: its labels cannot anchor a win-rate estimate")
    fr = judge_frame(store, judge).reset_index(drop=True)
    h = store.annotations_frame(groups=[group], with_texts=False)
    h = h[h["preference"].notna()]
    ymean = (h["preference"].astype(float) - 1).groupby(h["comparison_id"]).mean()
    y = ymean.reindex(fr["comparison_id"].to_numpy()).to_numpy(float)
    n = int((~np.isnan(y)).sum())
    warnings = []
    if mark is None:
        warnings.append(
            f"human labels of {group!r} were not drawn by Tiebreak: they are treated as a UNIFORM random "
            f"sample ({n} of {len(fr)} verdicts). If they were picked by hand, mark the group ad-hoc "
            "(tiebreak spotcheck mark) - the intervals would not be valid."
        )
    return fr, _srs_pi(fr, y, "stratified"), y, "uniform (imported)", warnings


def _model_rows(model, f, pi, y, design, alpha, target_width):
    lab = ~np.isnan(y)
    n, big_n = int(lab.sum()), f.size
    ests: list[Estimate] = [judge_only(f, alpha=alpha)]
    notes = []
    if n >= 2:
        if design != "uncertainty":
            ests.append(human_only(y[lab], big_n, alpha=alpha))
            ests.append(ppi_mean(y[lab], f[lab], f, finite_population=True, alpha=alpha))
            pool = f[~lab] if n < big_n else f
            ests.append(ppi_mean(y[lab], f[lab], pool, lam=None, alpha=alpha))
        else:
            notes.append("non-uniform design: only Horvitz-Thompson is valid")
        ests.append(horvitz_thompson(f, np.where(lab, pi, 1.0), lab, y, alpha=alpha))
    else:
        notes.append(f"{n} human label(s): at least 2 needed for a human-anchored estimate")
    more = None
    if target_width is not None and n >= 2:
        try:
            more = reviews_needed(float(np.std(y[lab] - f[lab], ddof=1)), n, big_n, target_width, alpha=alpha)
        except EstimatorError as exc:
            notes.append(str(exc))
    if more is not None and design == "uncertainty":
        notes.append("more reviews: uniform-sampling approximation")
    rows = []
    for e in ests:
        row = {"model": model, **e.as_dict(), "more_reviews": more if e.method in ("PPI", "Horvitz-Thompson") else None}
        row_notes = list(notes)
        if not 0 <= e.estimate <= 1:
            row_notes.append("estimate outside [0, 1]: too few labels for this design")
        row["lower"], row["upper"] = max(0.0, e.lower), min(1.0, e.upper)  # a win rate lies in [0, 1]
        row["notes"] = "; ".join(row_notes)
        rows.append(row)
    return rows
