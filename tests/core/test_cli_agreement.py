"""``tiebreak agreement`` on a real SQLite file filled with synthetic cross-annotations."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.core.test_metrics_judge import synthetic_crossannotations
from tiebreak.core.cli import main
from tiebreak.core.metrics.judge import COLUMNS, EXTRA_COLUMNS, judge_metrics
from tiebreak.core.store import Store


def fill(store: Store, df: pd.DataFrame) -> None:
    """Import the synthetic rows the way the importer stores cross-annotations and judges."""
    with store.transaction() as tx:
        for r in df.itertuples():
            iid = tx.instruction_id(r.instruction)
            o1 = tx.output_id(iid, r.generator_1, r.output_1)
            o2 = tx.output_id(iid, r.generator_2, r.output_2)
            cid = tx.comparison_id(iid, o1, o2)
            if r.annotator_kind == "human":
                aid = tx.annotator_id(f"{r.annotator}/{r.annotator_index}", "human",
                                         group=r.annotator, member=str(r.annotator_index))  # fmt: skip
                seed = 0
            else:
                aid, seed = tx.annotator_id(r.annotator, "judge"), int(r.annotator_index)
            p = None if math.isnan(r.preference) else float(r.preference)
            tx.add_annotation(comparison_id=cid, annotator_id=aid, preference=p, seed=seed,
                                 price=float(r.price_per_example), seconds=float(r.time_per_example), source="import")  # fmt: skip


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return synthetic_crossannotations(24)


@pytest.fixture
def db(tmp_path: Path, synthetic: pd.DataFrame) -> str:
    path = tmp_path / "t.sqlite"
    store = Store(path, create=True)
    fill(store, synthetic)
    store.close()
    return str(path)


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(["agreement", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_csv_equals_judge_metrics_on_the_same_labels(db: str, synthetic: pd.DataFrame, capsys) -> None:
    code, out, err = run(capsys, "--db", db, "--gold", "humans", "--format", "csv")
    assert code == 0
    got = pd.read_csv(io.StringIO(out), index_col=0)
    assert list(got.index) == ["humans", "judge", "one_seed"]
    assert list(got.columns) == [*COLUMNS, "mode", "version", "config_hash", *EXTRA_COLUMNS]
    assert set(got["mode"]) == {"minimal"}
    want = judge_metrics(synthetic, "humans", hourly_rate=None)  # the stored price (0.3 a label), as AlpacaEval
    got = got[COLUMNS + EXTRA_COLUMNS]
    np.testing.assert_allclose(got.to_numpy(float), want.to_numpy(float), rtol=1e-12, atol=1e-12)
    assert "unparsed label(s) on the gold comparisons not counted in # parsed" in err


def test_hourly_rate_and_judge_selection(db: str, capsys) -> None:
    _, stored, _ = run(capsys, "--db", db, "--gold", "humans", "--judge", "judge", "--format", "csv")
    _, out18, _ = run(capsys, "--db", db, "--gold", "humans", "--judge", "judge", "--format", "csv",
                      "--hourly-rate", "18")  # fmt: skip
    _, out36, _ = run(capsys, "--db", db, "--gold", "humans", "--judge", "judge", "--format", "csv",
                      "--hourly-rate", "36")  # fmt: skip
    a, b = pd.read_csv(io.StringIO(out18), index_col=0), pd.read_csv(io.StringIO(out36), index_col=0)
    assert list(a.index) == ["humans", "judge"]
    price = "Price [$/1000 examples]"
    assert b.loc["humans", price] == pytest.approx(2 * a.loc["humans", price])
    assert b.loc["judge", price] == a.loc["judge", price]
    # without --hourly-rate the stored human price (0.3 a label) is used; the rate overrides it
    assert pd.read_csv(io.StringIO(stored), index_col=0).loc["humans", price] == pytest.approx(300.0)
    assert a.loc["humans", price] != pytest.approx(300.0)


def test_without_stored_price_the_default_rate_applies(tmp_path: Path, synthetic: pd.DataFrame, capsys) -> None:
    store = Store(tmp_path / "np.sqlite", create=True)
    fill(store, synthetic.assign(price_per_example=np.where(synthetic["annotator"] == "humans", np.nan,
                                                            synthetic["price_per_example"])))  # fmt: skip
    store.close()
    code, out, err = run(capsys, "--db", str(tmp_path / "np.sqlite"), "--gold", "humans", "--format", "csv")
    got = pd.read_csv(io.StringIO(out), index_col=0)
    want = judge_metrics(synthetic, "humans", hourly_rate=18.0)
    assert code == 0 and "no stored price; price = measured seconds x 18 USD/h" in err
    assert got.loc["humans", "Price [$/1000 examples]"] == pytest.approx(want.loc["humans", "Price [$/1000 examples]"], abs=1e-9)


def test_table_and_json(db: str, capsys) -> None:
    code, out, _ = run(capsys, "--db", db, "--gold", "humans")
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["annotator", "Agree", "$/1000"]
    assert "note: judge:" in out and "unparsed" in out and "majority tie rule" in out
    code, out, _ = run(capsys, "--db", db, "--gold", "humans", "--format", "json")
    data = json.loads(out)
    rows = {r["annotator"]: r for r in data["rows"]}
    assert rows["one_seed"]["Bias"] is None  # NaN -> null: one seed has no bias
    assert rows["humans"]["Bias"] == 0.0 and data["notes"] and "larger value" in data["tie_rule"]


def test_unknown_names_are_errors(db: str, capsys) -> None:
    code, _, err = run(capsys, "--db", db, "--gold", "crowd")
    assert code == 2 and "unknown annotator group 'crowd' for --gold" in err
    code, _, err = run(capsys, "--db", db, "--gold", "humans", "--judge", "gpt9")
    assert code == 2 and "unknown annotator group(s) for --judge: gpt9" in err
    code, _, err = run(capsys, "--db", db, "--gold", "humans", "--hourly-rate", "-1")
    assert code == 2 and "--hourly-rate must be a non-negative number" in err


def test_judge_without_overlap(tmp_path: Path, synthetic: pd.DataFrame, capsys) -> None:
    path = tmp_path / "o.sqlite"
    store = Store(path, create=True)
    fill(store, synthetic)
    with store.transaction() as tx:
        iid = tx.instruction_id("another instruction")
        cid = tx.comparison_id(iid, tx.output_id(iid, "ref", "a"), tx.output_id(iid, "m", "b"))
        tx.add_annotation(comparison_id=cid, annotator_id=tx.annotator_id("lonely", "judge"),
                             preference=2.0, seed=0)  # fmt: skip
    store.close()
    code, out, _ = run(capsys, "--db", str(path), "--gold", "humans")
    assert code == 0 and "judges without labels on the gold comparisons skipped: lonely" in out
    code, _, err = run(capsys, "--db", str(path), "--gold", "humans", "--judge", "lonely")
    assert code == 2 and "judge(s) lonely have no label on the comparisons of 'humans'" in err


def test_csv_header_matches_alpaca_eval_evaluators_leaderboard(db: str, alpaca_dir: Path, capsys) -> None:
    published = (alpaca_dir / "leaderboards" / "evaluators_leaderboard.csv").read_text().splitlines()[0]
    _, out, _ = run(capsys, "--db", db, "--gold", "humans", "--format", "csv")
    ours = out.splitlines()[0].split(",")
    theirs = published.split(",")
    assert ours[: len(theirs)] == theirs  # AlpacaEval's columns, its `mode` tag included
    assert ours[len(theirs): len(theirs) + 2] == ["version", "config_hash"]


def test_labels_outside_the_gold_do_not_change_the_table(
    tmp_path: Path, synthetic: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts are read only on the gold's comparisons: same table and notes as with every text loaded."""
    from tiebreak.core.metrics import evaluator_table

    path = tmp_path / "t.sqlite"
    store = Store(path, create=True)
    fill(store, synthetic)
    judge = synthetic[synthetic["annotator_kind"] == "judge"].iloc[:5].copy()
    judge["instruction"] = [f"extra instruction {i}" for i in range(len(judge))]  # judge-only comparisons
    fill(store, judge)
    try:
        gold = synthetic.loc[synthetic["annotator_kind"] == "human", "annotator"].iloc[0]
        lean = evaluator_table.compute(store, gold, None, 18.0)
        monkeypatch.setattr(evaluator_table, "labels_frame", lambda s, g, names: s.annotations_frame(groups=[g, *names]))
        full = evaluator_table.compute(store, gold, None, 18.0)
        pd.testing.assert_frame_equal(lean, full)
        assert lean.attrs["notes"] == full.attrs["notes"]
        assert any("outside the complete gold set" in n for n in lean.attrs["notes"])
    finally:
        store.close()
