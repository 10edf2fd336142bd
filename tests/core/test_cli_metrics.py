"""``tiebreak leaderboard`` and ``tiebreak compare`` end to end on a real database."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest

from tiebreak.core.cli import main
from tiebreak.core.metrics.winrate import ALPACA_COLUMNS
from tiebreak.core.store import Store

JUDGE = "weighted_alpaca_eval_gpt4_turbo"
REF = "gpt4_1106_preview"
REPRODUCIBLE = ["claude-2.1", "alpaca-7b", "gpt-3.5-turbo-1106",
                "FuseChat-Gemma-2-9B-Instruct", "FuseChat-Llama-3.2-3B-Instruct"]  # fmt: skip


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_leaderboard_csv_diffs_against_alpaca_eval(metrics_sample_db, alpaca_dir, capsys):
    lb = alpaca_dir / "leaderboards"
    code, out, err = run(
        capsys, "leaderboard", "--db", str(metrics_sample_db), "--annotator", JUDGE, "--format", "csv",
        "--lc-weights", str(lb / f"lc_weights_{JUDGE}_baseline_{REF}.csv"),
        "--lc-difficulty", str(lb / "instruction_difficulty_derived.csv"),
    )  # fmt: skip
    assert code == 0, err
    ours = pd.read_csv(io.StringIO(out), index_col=0)
    published = pd.read_csv(lb / f"{JUDGE}_leaderboard.csv", index_col=0)
    # AlpacaEval's columns in its order (mode included), then which method produced each LC
    assert list(ours.columns) == [*published.columns, "lc_method"]
    assert out.splitlines()[0] == open(lb / f"{JUDGE}_leaderboard.csv").readline().rstrip("\n") + ",lc_method"
    assert ours["avg_length"].dtype.kind == "i" and set(ours["mode"]) == {"community"}
    assert ours.loc["claude-2.1", "lc_method"] == "published weights"
    assert list(ours.index) == list(ours.sort_values("length_controlled_winrate", ascending=False).index)
    for model in REPRODUCIBLE:
        for col in ALPACA_COLUMNS:
            theirs = published.loc[model, col]
            if col == "lc_standard_error" and math.isnan(theirs):
                continue
            assert ours.loc[model, col] == pytest.approx(theirs, abs=1e-6), (model, col)
    for col in ALPACA_COLUMNS[:8]:  # NullModel (generator "example"): everything but LC
        assert ours.loc["example", col] == pytest.approx(published.loc["NullModel", col], abs=1e-6)


def test_leaderboard_csv_needs_one_panel(metrics_sample_db, capsys):
    code, _, err = run(capsys, "leaderboard", "--db", str(metrics_sample_db), "--format", "csv")
    assert code == 2 and "--annotator alpaca_eval_gpt4 --reference text_davinci_003" in err


def test_leaderboard_table_shows_intervals_and_notes(metrics_sample_db, capsys):
    code, out, _ = run(capsys, "leaderboard", "--db", str(metrics_sample_db), "--resamples", "200")
    assert code == 0
    assert f"annotator {JUDGE} vs reference {REF}" in out
    assert "Wilson 95%" in out and "BCa 95%" in out and "LC" in out
    assert "rows dropped (unparsed/null preference): 0" in out
    assert "WITHOUT instruction difficulty" in out  # the single-model judges
    assert "intervals: Wilson 95% (analytic) and BCa 95% bootstrap (200 resamples)" in out


def test_leaderboard_default_is_analytic_and_says_so(metrics_sample_db, capsys):
    """Without --resamples no bootstrap runs: no BCa column, the method is printed and in the JSON."""
    code, out, _ = run(capsys, "leaderboard", "--db", str(metrics_sample_db))
    assert code == 0 and "Wilson 95%" in out and "BCa 95%" not in out
    assert out.rstrip().endswith("BCa bootstrap not computed (ask with --resamples N, e.g. 2000)")
    code, out, _ = run(capsys, "leaderboard", "--db", str(metrics_sample_db), "--format", "json")
    rows = json.loads(out)
    assert rows and all(r["bca_low"] is None and r["wilson_low"] is not None for r in rows)
    assert {r["interval_method"] for r in rows} == {
        "Wilson 95% (analytic); BCa bootstrap not computed (ask with --resamples N, e.g. 2000)"
    }


def test_leaderboard_json_and_dropped_rows(tmp_path, capsys):
    db = tmp_path / "t.sqlite"
    s = Store(db, create=True)
    with s.transaction() as tx:
        iid = tx.instruction_id("Name a colour")
        ref = tx.output_id(iid, "ref", "red")
        judge = tx.annotator_id("j", "judge")
    for i, p in enumerate([2.0, None, 1.0, None, 1.5]):
        with s.transaction() as tx:
            cid = tx.comparison_id(iid, ref, tx.output_id(iid, "m", f"blue {i}"))
            tx.add_annotation(comparison_id=cid, annotator_id=judge, preference=p, source="judge")
    s.conn.commit()
    s.close()
    code, out, _ = run(capsys, "leaderboard", "--db", str(db), "--resamples", "0")
    assert code == 0 and "rows dropped (unparsed/null preference): 2" in out
    assert "2 unparsed row(s) dropped" in out
    code, out, _ = run(
        capsys, "leaderboard", "--db", str(db), "--format", "json", "--resamples", "0"
    )
    rows = json.loads(out)
    assert rows[0]["n_total"] == 3 and rows[0]["n_dropped"] == 2 and rows[0]["win_rate"] == 0.5


def test_unknown_names_are_clear_errors(metrics_sample_db, capsys):
    code, _, err = run(
        capsys, "leaderboard", "--db", str(metrics_sample_db), "--annotator", "gpt-9"
    )
    assert code == 2 and "unknown annotator group(s): 'gpt-9'" in err
    code, _, err = run(
        capsys, "leaderboard", "--db", str(metrics_sample_db), "--reference", "nobody"
    )
    assert code == 2 and "unknown generator(s): 'nobody'" in err
    code, _, err = run(capsys, "compare", "--db", str(metrics_sample_db), "claude-2.1", "nobody")
    assert code == 2 and "'nobody'" in err


def test_empty_selection_is_an_error(tmp_path, capsys):
    s = Store(tmp_path / "e.sqlite", create=True)
    with s.transaction() as tx:
        iid = tx.instruction_id("x")
        tx.comparison_id(iid, tx.output_id(iid, "r", "a"), tx.output_id(iid, "m", "b"))
    s.conn.commit()
    s.close()
    code, _, err = run(capsys, "leaderboard", "--db", str(tmp_path / "e.sqlite"))
    assert code == 2 and "no annotations" in err


def test_compare_two_models(metrics_sample_db, capsys):
    code, out, err = run(capsys, "compare", "--db", str(metrics_sample_db), "claude-2.1",
                         "gpt-3.5-turbo-1106", "--format", "json")  # fmt: skip
    assert code == 0, err
    res = json.loads(out)
    assert (res["annotator"], res["reference"]) == (JUDGE, REF)
    pair = res["pairs"][0]
    assert pair["n"] == 805 and pair["diff"] > 0 and pair["p_value"] < 1e-6


def test_compare_all_needs_one_panel_then_gives_holm_matrix(metrics_sample_db, capsys):
    code, _, err = run(capsys, "compare", "--db", str(metrics_sample_db), "--all")
    assert code == 2 and "--annotator" in err
    code, out, err = run(
        capsys, "compare", "--db", str(metrics_sample_db), "--all", "--annotator", JUDGE
    )
    assert code == 0, err
    assert "p_holm" in out and out.count("\n") >= 16  # 6 models -> 15 pairs
    code, _, err = run(capsys, "compare", "--db", str(metrics_sample_db), "claude-2.1")
    assert code == 2 and "exactly two" in err


def test_lc_weights_need_the_difficulty_table(metrics_sample_db, alpaca_dir, capsys):
    weights = alpaca_dir / "leaderboards" / f"lc_weights_{JUDGE}_baseline_{REF}.csv"
    code, _, err = run(capsys, "leaderboard", "--db", str(metrics_sample_db), "--annotator", JUDGE,
                       "--lc-weights", str(weights))  # fmt: skip
    assert code == 2 and "--lc-difficulty" in err
