"""AlpacaEval interchange: 0.6.6 annotation columns, cross-annotations read by its Analyzer."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.core.test_cli_agreement import fill
from tests.core.test_metrics_judge import analyzer_rows, synthetic_crossannotations
from tiebreak.core.cli import main
from tiebreak.core.formats import FormatError
from tiebreak.core.formats.exporter import export_annotations, export_records
from tiebreak.core.formats.importer import import_files
from tiebreak.core.metrics.judge import COLUMNS
from tiebreak.core.store import Store

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
ALPACA_066 = ["instruction", "output_1", "generator_1", "dataset", "output_2", "generator_2", "annotator",
              "preference", "preference_price_per_example", "preference_time_per_example",
              "preference_raw_completion"]  # fmt: skip
JUDGE_FILE = "results/claude-2.1/weighted_alpaca_eval_gpt4_turbo/annotations.json"


def test_annotations_export_has_alpaca_eval_066_columns_only(alpaca_dir: Path, store: Store, tmp_path: Path) -> None:
    src = json.loads((alpaca_dir / JUDGE_FILE).read_text("utf-8"))[:40]
    (tmp_path / "in.json").write_text(json.dumps(src), "utf-8")
    import_files(store, [tmp_path / "in.json"])
    out = tmp_path / "annotations.json"
    export_annotations(store, out, "alpaca-eval")
    data = json.loads(out.read_text("utf-8"))
    assert [list(r) for r in data] == [ALPACA_066] * 40  # no stray column, AlpacaEval's order
    for mine, theirs in zip(data, src, strict=True):  # values unchanged, only the names moved
        assert mine["preference_raw_completion"] == theirs["raw_completion"]  # the choice object
        assert isinstance(mine["preference_raw_completion"], dict)
        assert mine["preference_price_per_example"] == theirs["price_per_example"]
    # asked for: Tiebreak's own columns too
    rich = export_records(store, "alpaca-eval", extra_columns=True)
    assert set(rich[0]) >= set(ALPACA_066)


def test_both_generations_of_names_read_back_the_same(alpaca_dir: Path, tmp_path: Path) -> None:
    src = json.loads((alpaca_dir / JUDGE_FILE).read_text("utf-8"))[:10]
    old, new = Store(memory=True), Store(memory=True)
    (tmp_path / "old.json").write_text(json.dumps(src), "utf-8")
    import_files(old, [tmp_path / "old.json"])
    export_annotations(old, tmp_path / "new.json", "alpaca-eval")
    import_files(new, [tmp_path / "new.json"])
    cols = ["preference", "price_per_example", "time_per_example"]
    assert old.annotations_frame()[cols].equals(new.annotations_frame()[cols])
    assert [json.loads(r) for r in new.annotations_frame()["raw_completion"]] == [r["raw_completion"] for r in src]


def test_alpaca_eval_reads_the_export_and_gets_our_win_rate(alpaca_dir: Path, tmp_path: Path, capsys) -> None:
    from alpaca_eval import utils
    from alpaca_eval.metrics import get_winrate

    db = tmp_path / "w.sqlite"
    assert main(["import", "--db", str(db), "--create", str(alpaca_dir / JUDGE_FILE)]) == 0
    assert main(["export", "--db", str(db), "--format", "alpaca-eval", "-o", str(tmp_path / "a.json"),
                 "--generator", "claude-2.1", "--annotator", "weighted_alpaca_eval_gpt4_turbo"]) == 0  # fmt: skip
    theirs = get_winrate(utils.load_or_convert_to_dataframe(tmp_path / "a.json"))
    capsys.readouterr()
    assert main(["leaderboard", "--db", str(db), "--format", "json", "--resamples", "0",
                 "--annotator", "weighted_alpaca_eval_gpt4_turbo"]) == 0  # fmt: skip
    (row,) = [r for r in json.loads(capsys.readouterr().out) if r["generator_2"] == "claude-2.1"]
    assert theirs["n_total"] == row["n_total"] == 805
    assert 100 * row["win_rate"] == pytest.approx(theirs["win_rate"], abs=1e-9)
    assert 100 * row["standard_error"] == pytest.approx(theirs["standard_error"], abs=1e-9)


def crossannotations_3_4_5(seed: int = 3) -> pd.DataFrame:
    """Humans with 3, 4 or 5 labels per comparison (4 most often), worker ids not 0..k-1, two
    judges with 4 seeds; rows shuffled."""
    df = synthetic_crossannotations(40, n_humans=5, seed=seed)
    humans = df["annotator"] == "humans"
    cid = df["comparison_id"]
    drop = humans & (((cid % 3 == 0) & (df["annotator_index"] >= 3)) | ((cid % 3 == 1) & (df["annotator_index"] == 4)))
    df = df[~drop].copy()
    df.loc[df["annotator"] == "humans", "annotator_index"] = df["annotator_index"] * 7 + 2  # worker ids
    second = df[df["annotator"] == "judge"].assign(
        annotator="judge_b", preference=lambda d: np.where(d["preference"].isna(), np.nan, 3.0 - d["preference"]))
    df = pd.concat([df[df["annotator"] != "one_seed"], second], ignore_index=True)
    return df.sample(frac=1, random_state=seed).reset_index(drop=True)


@pytest.mark.slow  # the Analyzer takes a few seconds
@pytest.mark.parametrize("seed", [3, 4, 5])
def test_analyzer_on_the_export_equals_agreement_json(tmp_path: Path, capsys, seed: int) -> None:
    df = crossannotations_3_4_5(seed)
    n_labels = df[df["annotator"] == "humans"].groupby("comparison_id").size()
    assert set(n_labels) == {3, 4, 5}
    store = Store(tmp_path / "x.sqlite", create=True)
    fill(store, df)  # inserted in shuffled order
    store.close()
    out = tmp_path / "cross.json"
    assert main(["export", "--db", str(tmp_path / "x.sqlite"), "--format", "cross-annotations", "-o", str(out)]) == 0
    exported = pd.read_json(out, orient="records")  # as AlpacaEval reads a file: no help from us
    assert "generator" in exported.columns
    oracle = analyzer_rows(exported, ["judge", "judge_b"])
    capsys.readouterr()
    assert main(["agreement", "--db", str(tmp_path / "x.sqlite"), "--gold", "humans", "--format", "json",
                 "--gold-labels", "4"]) == 0  # Analyzer(n_annotators=4)  # fmt: skip
    rows = {r["annotator"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    for group in ("humans", "judge", "judge_b"):
        for col in COLUMNS:
            want, got = oracle.loc[group, col], rows[group][col]
            if np.isnan(want):
                assert got is None, (group, col)
            else:
                assert got == pytest.approx(want, abs=1e-9, rel=0), (group, col)


def test_analyzer_order_matters_without_the_export_order(tmp_path: Path) -> None:
    """The same labels in the database's (shuffled) order give other Analyzer figures: the
    export's order is what makes the two agree."""
    df = crossannotations_3_4_5()
    store = Store(tmp_path / "x.sqlite", create=True)
    fill(store, df)
    shuffled = store.annotations_frame(groups=["humans"]).assign(generator=lambda d: d["generator_2"])
    ordered = pd.DataFrame(export_records(store, "cross-annotations", annotators=["humans"]))
    a = analyzer_rows(shuffled, [])
    b = analyzer_rows(ordered, [])
    assert a.loc["humans", "Human agreement"] != pytest.approx(b.loc["humans", "Human agreement"], abs=1e-9)


def test_alpaca_eval_fixture_shape_imports_with_names_from_options(tmp_path: Path, capsys) -> None:
    src = DATA / "alpaca_eval_crossannotations.json"
    db = str(tmp_path / "f.sqlite")
    main(["info", "--db", db])  # whatever a new database holds before the import
    before = Store(db, create=True).counts()
    code = main(["import", "--db", db, "--create", str(src)])
    err = capsys.readouterr().err
    assert code == 2 and "record 1: field generator_1: missing (give it with --generator-1" in err
    assert Store(db, create=True).counts() == before
    code = main(["import", "--db", db, "--create", str(src), "--generator-1", "ref", "--generator-2", "model",
                 "--annotator", "humans_farm"])  # fmt: skip
    assert code == 0
    frame = Store(db, create=True).annotations_frame(groups=["humans_farm"])
    assert len(frame) == 16 and set(frame["annotator_kind"]) == {"human"}
    assert set(frame["generator_1"]) == {"ref"} and frame["price_per_example"].eq(0.3).all()
    assert sorted(frame["annotator_index"].astype(int).unique()) == [0, 3, 4, 5, 7, 9, 12]
    # the Analyzer on the original file and `agreement` on the database: the humans' row
    from alpaca_eval import analyze

    raw = pd.read_json(src).assign(generator="model")
    an = analyze.Analyzer(gold_crossannotations=raw, gold_annotations=None, n_annotators=4, scoring_rule="absolute")
    want = analyze.get_metrics_evaluator(an, an.df_gold_crossannotations, "humans")
    capsys.readouterr()
    assert main(["agreement", "--db", db, "--gold", "humans_farm", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    for col in ("Human agreement", "Price [$/1000 examples]", "Time [seconds/1000 examples]", "Variance"):
        assert row[col] == pytest.approx(want[col], abs=1e-9), col


def test_file_values_win_over_options_and_generator_fills_generator_2(tmp_path: Path) -> None:
    recs = [{"instruction": "q", "output_1": "a", "output_2": "b", "generator": "m1", "annotator": "j",
             "preference": 2}]  # fmt: skip
    (tmp_path / "g.json").write_text(json.dumps(recs), "utf-8")
    store = Store(memory=True)
    import_files(store, [tmp_path / "g.json"], defaults={"generator_1": "ref", "annotator": "other"})
    row = store.annotations_frame().iloc[0]
    assert (row["generator_1"], row["generator_2"], row["annotator"]) == ("ref", "m1", "j")
    assert store.conn.execute("SELECT extra FROM annotations").fetchone()[0] is None  # no stray copy


def test_missing_generator_without_options_changes_nothing(tmp_path: Path) -> None:
    store = Store(memory=True)
    with pytest.raises(FormatError, match=r"alpaca_eval_crossannotations.json: record 1: field generator_1: missing"):
        import_files(store, [DATA / "alpaca_eval_crossannotations.json"])
    assert store.counts()["annotations"] == 0


def test_cross_export_reads_back_without_stray_extra(tmp_path: Path) -> None:
    df = crossannotations_3_4_5()
    src = Store(memory=True)
    fill(src, df.head(60))
    export_annotations(src, tmp_path / "c.json", "cross-annotations")
    dst = Store(memory=True)
    import_files(dst, [tmp_path / "c.json"])
    assert dst.conn.execute("SELECT count(*) FROM annotations WHERE extra IS NOT NULL").fetchone()[0] == 0
    assert len(dst.annotations_frame()) == 60
    csv_text = io.StringIO()
    pd.DataFrame(export_records(dst, "cross-annotations")).to_csv(csv_text)
    assert "generator" in csv_text.getvalue().splitlines()[0].split(",")


def test_export_alpaca_leaderboard_is_the_leaderboard_csv(metrics_sample_db: Path, alpaca_dir: Path, tmp_path: Path, capsys) -> None:
    lb = alpaca_dir / "leaderboards"
    lc = ["--lc-weights", str(lb / "lc_weights_weighted_alpaca_eval_gpt4_turbo_baseline_gpt4_1106_preview.csv"),
          "--lc-difficulty", str(lb / "instruction_difficulty_derived.csv")]  # fmt: skip
    out = tmp_path / "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv"
    code = main(["export", "--db", str(metrics_sample_db), "--format", "alpaca-leaderboard", "-o", str(out),
                 "--annotator", "weighted_alpaca_eval_gpt4_turbo", "--mode", "verified", *lc])  # fmt: skip
    assert code == 0
    capsys.readouterr()
    main(["leaderboard", "--db", str(metrics_sample_db), "--format", "csv", "--mode", "verified",
          "--annotator", "weighted_alpaca_eval_gpt4_turbo", *lc])  # fmt: skip
    assert out.read_text("utf-8") == capsys.readouterr().out
    from alpaca_eval import utils

    theirs = utils.load_or_convert_to_dataframe(out)  # AlpacaEval's own reader
    published = pd.read_csv(lb / "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv", index_col=0)
    assert list(theirs.columns)[: len(published.columns)] == list(published.columns)
    assert theirs.loc["claude-2.1", "avg_length"] == published.loc["claude-2.1", "avg_length"] == 1096
    code = main(["export", "--db", str(metrics_sample_db), "--format", "alpaca-leaderboard", "-o", str(out)])
    assert code == 2 and "choose one of" in capsys.readouterr().err


def test_raw_completion_takes_alpaca_evals_shape(store: Store) -> None:
    """A stored whole chat completion is exported as its first choice (what AlpacaEval stores);
    plain text stays text."""
    choice = {"finish_reason": "stop", "index": 0, "message": {"role": "assistant", "content": "m"},
              "logprobs": {"content": [{"token": "m", "logprob": -0.1, "top_logprobs": []}]}}  # fmt: skip
    completion = {"id": "chatcmpl-1", "object": "chat.completion", "choices": [choice], "usage": {"total_tokens": 9}}
    with store.transaction() as tx:
        i = tx.instruction_id("q")
        comp = tx.comparison_id(i, tx.output_id(i, "ref", "a"), tx.output_id(i, "m", "b"))
        judge = tx.annotator_id("j", "judge")
        tx.add_annotation(comparison_id=comp, annotator_id=judge, preference=2.0, source="judge",
                          raw_completion=json.dumps(completion))  # fmt: skip
        tx.add_annotation(comparison_id=comp, annotator_id=judge, preference=1.0, source="judge", seed=1,
                          raw_completion="Output (a)")  # fmt: skip
    first, second = export_records(store, "alpaca-eval")
    assert first["preference_raw_completion"] == choice
    assert second["preference_raw_completion"] == "Output (a)"
    assert list(first) == [c for c in ALPACA_066 if c != "dataset"]
