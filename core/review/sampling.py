"""Audit sampling designs with known inclusion probabilities: uniform, stratified, uncertainty.

Definitions: docs/statistics.md §2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiebreak.core.errors import TiebreakError

__all__ = ["DESIGNS", "Draw", "SamplingError", "allocate", "inclusion_probabilities", "draw"]

#: Designs: SRS without replacement overall / per stratum, or Poisson sampling by uncertainty.
DESIGNS = ("uniform", "stratified", "uncertainty")
UNIFORM_SHARE = 0.2  # pi = 0.8 pi_unc + 0.2 n / N, so no item gets a tiny probability


class SamplingError(TiebreakError, ValueError):
    """A sampling request that cannot be met (unknown design, n out of range)."""


@dataclass(frozen=True)
class Draw:
    """Result of one draw: which items were picked and every item's inclusion probability."""

    design: str
    pi: np.ndarray  # marginal inclusion probability of every item, fixed before anything is shown
    drawn: np.ndarray  # bool mask of the items picked by this draw
    notes: tuple[str, ...] = ()


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of n draws over strata (largest remainder, at least 1 per stratum).

    Parameters
    ----------
    sizes : dict
        Stratum -> number of items available.
    n : int
        Total number of draws.
    """
    total = sum(sizes.values())
    if n > total:
        raise SamplingError(f"stratified: n={n} exceeds the {total} items available")
    raw = {k: n * v / total for k, v in sizes.items()}
    alloc = {k: min(sizes[k], max(1 if n >= len(sizes) else 0, int(np.floor(r)))) for k, r in raw.items()}
    order = sorted(sizes, key=lambda k: raw[k] - np.floor(raw[k]), reverse=True)
    while sum(alloc.values()) < n:
        for k in order:
            if sum(alloc.values()) >= n:
                break
            if alloc[k] < sizes[k]:
                alloc[k] += 1
    while sum(alloc.values()) > n:  # minimum-1 rule overshot
        k = max(alloc, key=lambda s: alloc[s] - raw[s])
        alloc[k] -= 1
    return alloc


def _uncertainty_pi(u: np.ndarray, n: int) -> np.ndarray:
    """Probabilities proportional to u summing to n, capped at 1 (excess redistributed)."""
    big_n = u.size
    if not np.any(u > 0):
        return np.full(big_n, n / big_n)
    pi = np.zeros(big_n)
    capped = np.zeros(big_n, dtype=bool)
    for _ in range(big_n):
        free = ~capped
        budget = n - capped.sum()
        weights = u[free]
        pi[free] = budget * weights / weights.sum() if weights.sum() > 0 else budget / free.sum()
        over = free & (pi > 1)
        if not over.any():
            break
        pi[over] = 1.0
        capped |= over
    return np.clip(pi, 0.0, 1.0)


def inclusion_probabilities(
    design: str, f: np.ndarray, n: int, strata: np.ndarray | None = None, uncertainty: np.ndarray | None = None
) -> np.ndarray:
    """Marginal inclusion probability of each of the N items for a draw of (expected) size n.

    Parameters
    ----------
    design : {"uniform", "stratified", "uncertainty"}
        uniform: n/N; stratified: n_h/N_h with proportional allocation over ``strata``;
        uncertainty: 0.8 pi_unc + 0.2 n/N with pi_unc proportional to ``uncertainty``
        (default sqrt(f (1 - f))), capped at 1.
    f : ndarray
        Judge scores in [0, 1] of the N items.
    n : int
        Number of draws (expected number for the uncertainty design).
    strata : ndarray, optional
        Stratum label of each item (required for ``stratified``).
    uncertainty : ndarray, optional
        Non-negative uncertainty of each item (e.g. |p_AB - p_BA|).
    """
    f = np.asarray(f, dtype=float)
    big_n = f.size
    if design not in DESIGNS:
        raise SamplingError(f"unknown design {design!r} (choose from {', '.join(DESIGNS)})")
    if not 0 < n <= big_n:
        raise SamplingError(f"{design}: n must be between 1 and N={big_n} (got {n})")
    if design == "uniform":
        return np.full(big_n, n / big_n)
    if design == "stratified":
        if strata is None:
            raise SamplingError("stratified: a stratum (model) per item is required")
        strata = np.asarray(strata, dtype=object)
        keys, counts = np.unique(strata.astype(str), return_counts=True)
        alloc = allocate(dict(zip(keys.tolist(), counts.tolist(), strict=True)), n)
        size = dict(zip(keys.tolist(), counts.tolist(), strict=True))
        return np.array([alloc[str(s)] / size[str(s)] for s in strata])
    u = np.sqrt(np.clip(f * (1 - f), 0, None)) if uncertainty is None else np.asarray(uncertainty, float)
    if u.size != big_n or np.any(u < 0):
        raise SamplingError("uncertainty: one non-negative value per item is required")
    return (1 - UNIFORM_SHARE) * _uncertainty_pi(u, n) + UNIFORM_SHARE * n / big_n


def draw(
    design: str,
    f: np.ndarray,
    n: int,
    rng: np.random.Generator,
    strata: np.ndarray | None = None,
    uncertainty: np.ndarray | None = None,
) -> Draw:
    """Draw an audit sample; probabilities are computed before, and independently of, the draw.

    uniform / stratified: simple random sampling without replacement of exactly n (n_h per
    stratum); uncertainty: Poisson sampling (each item independently with its pi), so the
    Horvitz-Thompson variance formula is exact and the sample size is n on average.
    """
    pi = inclusion_probabilities(design, f, n, strata, uncertainty)
    big_n = pi.size
    drawn = np.zeros(big_n, dtype=bool)
    notes: list[str] = []
    if design == "uncertainty":
        drawn = rng.random(big_n) < pi
        if uncertainty is None and not np.any((np.asarray(f) > 0) & (np.asarray(f) < 1)):
            notes.append("all judge scores are 0/1: no uncertainty to weight by, drew uniformly")
    elif design == "uniform":
        drawn[rng.choice(big_n, size=n, replace=False)] = True
    else:
        keys = np.asarray(strata).astype(str)
        for key in np.unique(keys):
            idx = np.flatnonzero(keys == key)
            k = int(round(pi[idx[0]] * idx.size))
            drawn[rng.choice(idx, size=k, replace=False)] = True
    return Draw(design, pi, drawn, tuple(notes))
