"""LiveStats: incremental win rates and agreement equal the batch computation after every step."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from alpaca_eval.metrics import get_winrate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from tiebreak.core.labelling.live import LiveSnapshot, LiveStats, LiveStatsError
from tiebreak.core.metrics.agreement import majority_vote
from tiebreak.core.metrics.intervals import wilson_interval
from tiebreak.core.metrics.winrate import leaderboard

GROUPS = [("crowd", "human"), ("experts", "human"), ("gpt", "judge"), ("claude", "judge")]
PREFS = st.one_of(
    st.sampled_from([1.0, 1.5, 2.0, 1.0, 2.0, 0.0, None, float("nan")]),
    st.floats(min_value=1.0, max_value=2.0, allow_nan=False),
)


def make_row(aid: int, cid: int, group: int, pref: float | None) -> dict:
    name, kind = GROUPS[group]
    return dict(annotation_id=aid, comparison_id=cid, generator_2=f"model_{cid % 3}",
                annotator=name, annotator_kind=kind, preference=pref)  # fmt: skip


def _clean(p: float | None) -> float | None:
    if p is None or math.isnan(p):
        return None
    return 1.5 if p == 0 else p


def batch(rows: list[dict]) -> tuple[dict, dict]:
    """Win rates via tiebreak.core.metrics.winrate / intervals and agreement via tiebreak.core.metrics.agreement."""
    by_key: dict = defaultdict(list)
    for r in rows:
        by_key[(r["generator_2"], r["annotator"])].append(_clean(r["preference"]))
    wins = {}
    if rows:
        table = leaderboard(pd.DataFrame(rows), keys=("generator_2", "annotator"))
        records = dict(zip(table.index, table.to_dict("records"), strict=True))
        for key, ps in by_key.items():
            s = np.array([p - 1 for p in ps if p is not None])
            interval = wilson_interval(s) if len(s) >= 2 else (math.nan, math.nan)  # one label: no interval
            wins[key] = (records[key], interval, sum(p is None for p in ps))
    humans: dict = defaultdict(list)
    for r in rows:
        if r["annotator_kind"] == "human" and _clean(r["preference"]) is not None:
            humans[r["comparison_id"]].append(_clean(r["preference"]))
    target = {}
    if humans:
        width = max(len(v) for v in humans.values())
        mat = np.array([v + [math.nan] * (width - len(v)) for v in humans.values()])
        target = dict(zip(humans, majority_vote(mat), strict=True))
    pairs: dict = defaultdict(list)
    for r in rows:
        p = _clean(r["preference"])
        if r["annotator_kind"] == "judge" and p is not None and r["comparison_id"] in target:
            pairs[r["annotator"]].append(abs(p - target[r["comparison_id"]]))
    agree = {g: (len(d), float(1 - np.mean(d))) for g, d in pairs.items()}
    return wins, agree


def check(snap: LiveSnapshot, rows: list[dict]) -> None:
    wins, agree = batch(rows)
    assert set(snap.win_rates) == set(wins)
    for key, (row, interval, n_null) in wins.items():
        got = snap.win_rates[key]
        assert (got.n_total, got.n_dropped) == (row["n_total"], n_null)
        assert (got.n_wins, got.n_wins_base, got.n_draws) == (row["n_wins"], row["n_wins_base"], row["n_draws"])
        for mine, theirs in [(got.win_rate, row["win_rate"]), (got.standard_error, row["standard_error"]),
                             (got.low, interval[0]), (got.high, interval[1])]:  # fmt: skip
            assert mine == pytest.approx(theirs, abs=1e-12, nan_ok=True)
    assert set(snap.agreement) == set(agree)
    for group, (n, value) in agree.items():
        assert snap.agreement[group].n_labels == n
        assert snap.agreement[group].value == pytest.approx(value, abs=1e-12)


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 4), st.integers(0, 3), PREFS),
        st.tuples(st.just("retract"), st.integers(0, 10**6)),
        st.tuples(st.just("restore"), st.integers(0, 10**6)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_equal_to_batch_after_every_step(ops: list[tuple]) -> None:
    live, rows, retracted = LiveStats(), {}, {}
    for op in ops:
        if op[0] == "add":
            aid = len(rows) + len(retracted)
            rows[aid] = make_row(aid, op[1], op[2], op[3])
            live.add(rows[aid])
        elif op[0] == "retract" and rows:
            aid = sorted(rows)[op[1] % len(rows)]
            retracted[aid] = rows.pop(aid)
            live.retract(retracted[aid])
        elif op[0] == "restore" and retracted:
            aid = sorted(retracted)[op[1] % len(retracted)]
            rows[aid] = retracted.pop(aid)
            live.add(rows[aid])
        check(live.snapshot(), list(rows.values()))
    rebuilt = LiveStats.from_frame(pd.DataFrame(list(rows.values()), columns=list(make_row(0, 0, 0, 1))))
    check(rebuilt.snapshot(), list(rows.values()))


def test_worked_wilson_example() -> None:
    prefs = [2.0] * 9 + [1.5] * 3 + [1.0] * 8
    live = LiveStats.from_frame(pd.DataFrame([make_row(i, 0, 2, p) for i, p in enumerate(prefs)]))
    got = live.snapshot().win_rates[("model_0", "gpt")]
    assert got.win_rate == pytest.approx(0.525)
    assert (round(got.low, 3), round(got.high, 3)) == (0.336, 0.706)
    assert (got.n_wins, got.n_draws, got.n_wins_base) == (9, 3, 8)


@pytest.mark.parametrize("seed", range(4))
def test_independent_oracles_after_adds_and_retractions(seed: int) -> None:
    """Win rate and SE equal ``alpaca_eval.metrics.get_winrate``; the Wilson interval of binary
    labels equals ``statsmodels`` ``proportion_confint(method="wilson")``, after retractions too."""
    rng = np.random.default_rng(seed)
    prefs = rng.choice([1.0, 2.0], size=60).tolist()
    live = LiveStats()
    for i, p in enumerate(prefs):
        live.add(make_row(i, 0, 2, p))
    for i in range(0, 60, 7):
        live.retract(i)
    kept = [p for i, p in enumerate(prefs) if i % 7]
    got = live.snapshot().win_rates[("model_0", "gpt")]
    theirs = get_winrate(pd.DataFrame({"preference": kept}))
    assert got.win_rate * 100 == pytest.approx(theirs["win_rate"], abs=1e-9)
    assert got.standard_error * 100 == pytest.approx(theirs["standard_error"], abs=1e-9)
    assert (got.n_wins, got.n_wins_base, got.n_total) == (theirs["n_wins"], theirs["n_wins_base"], theirs["n_total"])
    wins = sum(p == 2.0 for p in kept)
    low, high = proportion_confint(wins, len(kept), alpha=0.05, method="wilson")
    assert (got.low, got.high) == pytest.approx((low, high), abs=1e-12)


def test_retraction_leaves_no_residue() -> None:
    live = LiveStats()
    live.add(make_row(1, 0, 2, 2.0))
    live.add(make_row(2, 0, 2, 2.0))
    for i, p in enumerate([1.1, 1.3, 1.7, 1.9, 1.2345678901]):
        live.add(make_row(10 + i, 0, 2, p))
    for i in range(5):
        live.retract(10 + i)
    got = live.snapshot().win_rates[("model_0", "gpt")]
    assert got.win_rate == 1.0 and got.standard_error == 0.0  # exactly, not ~1e-9


def test_agreement_follows_human_majority() -> None:
    live = LiveStats()
    live.add(make_row(1, 7, 2, 2.0))  # judge says 2; no humans yet
    assert live.snapshot().agreement == {}
    live.add(make_row(2, 7, 0, 1.0))
    assert live.snapshot().agreement["gpt"].value == 0.0
    live.add(make_row(3, 7, 1, 2.0))  # 1-1 split -> 2 (tie rule)
    assert live.snapshot().agreement["gpt"].value == 1.0
    live.add(make_row(4, 7, 0, 1.5))  # 1, 2, 1.5 -> three-way tie -> 1
    snap = live.snapshot()
    assert (snap.agreement["gpt"].n_labels, snap.agreement["gpt"].value) == (1, 0.0)
    live.retract({"annotation_id": 2})
    assert live.snapshot().agreement["gpt"].value == 1.0  # 2 vs 1.5 -> tie rule: 2
    assert snap.version < live.snapshot().version


def test_snapshot_is_frozen() -> None:
    live = LiveStats()
    live.add(make_row(1, 0, 2, 2.0))
    snap = live.snapshot()
    live.add(make_row(2, 0, 2, 1.0))
    assert snap.win_rates[("model_0", "gpt")].n_total == 1 and snap.n_labels == 1
    with pytest.raises(TypeError):
        snap.win_rates[("x", "y")] = None  # type: ignore[index]
    frame = live.snapshot().win_rate_frame()
    assert frame.loc[("model_0", "gpt"), "n_total"] == 2


def test_bad_input_is_named() -> None:
    live = LiveStats()
    live.add(make_row(1, 0, 2, None))
    snap = live.snapshot().win_rates[("model_0", "gpt")]
    assert snap.n_total == 0 and snap.n_dropped == 1 and math.isnan(snap.win_rate)
    with pytest.raises(LiveStatsError, match="annotation 1 is already counted"):
        live.add(make_row(1, 0, 2, 2.0))
    with pytest.raises(LiveStatsError, match="annotation 99 is not counted"):
        live.retract(99)
    with pytest.raises(LiveStatsError, match="outside"):
        live.add(make_row(5, 0, 2, 2.5))
    with pytest.raises(LiveStatsError, match="row lacks preference"):
        live.add({k: v for k, v in make_row(6, 0, 2, 2.0).items() if k != "preference"})
    with pytest.raises(LiveStatsError, match="frame lacks column"):
        LiveStats.from_frame(pd.DataFrame({"preference": [1.0]}))
    live.retract(1)
    assert live.snapshot().win_rates == {}
    frame = pd.DataFrame([make_row(1, 0, 2, 2.0), make_row(2, 0, 2, 1.0)]).assign(
        retracted_at=[None, "2026-01-01"])  # fmt: skip
    rebuilt = LiveStats.from_frame(frame)
    assert rebuilt.n_skipped_retracted == 1 and rebuilt.snapshot().n_labels == 1
    with pytest.raises(LiveStatsError, match="duplicate annotation_id"):
        LiveStats.from_frame(pd.DataFrame([make_row(1, 0, 2, 2.0), make_row(1, 0, 2, 1.0)]))
    with pytest.raises(LiveStatsError, match="annotation 8: preference 3.0 outside"):
        LiveStats.from_frame(pd.DataFrame([make_row(7, 0, 2, 2.0), make_row(8, 0, 2, 3.0)]))
