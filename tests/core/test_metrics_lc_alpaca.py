"""LC the AlpacaEval way: its weights layout, positional difficulty (phi-2), its own GLM fit."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tiebreak.core.cli import main
from tiebreak.core.metrics import MetricsError
from tiebreak.core.metrics.lc_alpaca import (
    fit_alpaca_glm,
    names_from_weights_path,
    read_difficulty_table,
)

JUDGE = "weighted_alpaca_eval_gpt4_turbo"
REF = "gpt4_1106_preview"
PHI2_PUBLISHED_LC = 4.398682270855682  # weighted_alpaca_eval_gpt4_turbo_leaderboard.csv, phi-2 (803 rows)
DROP = [5, 300]  # rows removed to make an 803-row model


def test_weights_path_layouts() -> None:
    nested = f"x/weights/{JUDGE}/length_controlled_v1/baseline_{REF}.csv"
    assert names_from_weights_path(nested) == (JUDGE, REF)
    assert names_from_weights_path(f"lc_weights_{JUDGE}_baseline_{REF}.csv") == (JUDGE, REF)
    assert names_from_weights_path("weights.csv") == (None, None)


@pytest.fixture(scope="module")
def lc_files(alpaca_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """AlpacaEval's own layouts: weights/<annotator>/length_controlled_v1/baseline_<ref>.csv and
    instruction_difficulty.csv (index, value: no instruction texts)."""
    root = tmp_path_factory.mktemp("lc")
    lb = alpaca_dir / "leaderboards"
    weights = root / "weights" / JUDGE / "length_controlled_v1" / f"baseline_{REF}.csv"
    weights.parent.mkdir(parents=True)
    shutil.copy(lb / f"lc_weights_{JUDGE}_baseline_{REF}.csv", weights)
    derived = pd.read_csv(lb / "instruction_difficulty_derived.csv")
    plain = root / "instruction_difficulty.csv"
    derived.set_index("index")["instruction_difficulty_derived"].rename("instruction_difficulty").to_csv(plain)
    return {"weights": weights, "difficulty": plain, "derived": lb / "instruction_difficulty_derived.csv"}


def model_file(alpaca_dir: Path, tmp: Path, name: str) -> Path:
    """claude-2.1's real annotations with two rows dropped (803 rows), renamed to ``name``."""
    rows = json.loads((alpaca_dir / f"results/claude-2.1/{JUDGE}/annotations.json").read_text("utf-8"))
    kept = [dict(r, generator_2=name) for i, r in enumerate(rows) if i not in DROP]
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(kept), "utf-8")
    return path


def leaderboard_csv(db: Path, capsys, *extra: str) -> pd.DataFrame:
    capsys.readouterr()
    code = main(["leaderboard", "--db", str(db), "--annotator", JUDGE, "--format", "csv", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return pd.read_csv(io.StringIO(out), index_col=0)


@pytest.mark.parametrize("table", ["difficulty", "derived"])
def test_phi2_lc_needs_the_positional_lookup(alpaca_dir, lc_files, tmp_path, capsys, table) -> None:
    """803 rows named phi-2: the published weights give the published 4.398682 only when the
    difficulty is looked up by row position, as AlpacaEval does."""
    db = tmp_path / "p.sqlite"
    assert main(["import", "--db", str(db), "--create", str(model_file(alpaca_dir, tmp_path, "phi-2"))]) == 0
    got = leaderboard_csv(db, capsys, "--lc-weights", str(lc_files["weights"]),
                          "--lc-difficulty", str(lc_files[table]))  # fmt: skip
    assert got.loc["phi-2", "n_total"] + 0 <= 803 and got.loc["phi-2", "lc_method"] == "published weights"
    assert got.loc["phi-2", "length_controlled_winrate"] == pytest.approx(PHI2_PUBLISHED_LC, abs=1e-6)
    # by instruction (the two dropped instructions left out) the value is another one
    w = pd.read_csv(lc_files["weights"], index_col=0).loc["phi-2"]
    d = pd.read_csv(lc_files["derived"])["instruction_difficulty_derived"].to_numpy()
    by_text = 100 * np.mean(1 / (1 + np.exp(-(w.iloc[2] + w.iloc[1] * np.delete(d, DROP)))))
    assert abs(by_text - PHI2_PUBLISHED_LC) > 1e-4


def alpaca_noreg_oracle(frame: pd.DataFrame, difficulty: np.ndarray, tmp: Path, monkeypatch) -> dict:
    """alpaca_eval.metrics.glm_winrate.get_length_controlled_winrate ("length_controlled_noreg")
    on the same rows. Its data loader downloads df_gamed.csv from the Hugging Face hub for the
    difficulty; it is handed a local file with our difficulty instead (its fit is unchanged)."""
    from alpaca_eval.metrics import glm_winrate

    gamed = tmp / "df_gamed.csv"
    pd.DataFrame({"index": np.arange(len(difficulty)), "instruction_difficulty": difficulty,
                  "model": "none"}).to_csv(gamed, index=False)  # fmt: skip
    monkeypatch.setattr(glm_winrate, "hf_hub_download", lambda **_: str(gamed))
    return glm_winrate.get_length_controlled_winrate(frame.copy(), glm_name="length_controlled_noreg",
                                                      save_weights_dir=None, is_warn_extreme_changes=False)  # fmt: skip


def test_new_model_is_fitted_with_alpaca_evals_glm(alpaca_dir, lc_files, tmp_path, capsys, monkeypatch) -> None:
    src = model_file(alpaca_dir, tmp_path, "my-new-model")
    db = tmp_path / "n.sqlite"
    assert main(["import", "--db", str(db), "--create", str(src)]) == 0
    got = leaderboard_csv(db, capsys, "--lc-weights", str(lc_files["weights"]),
                          "--lc-difficulty", str(lc_files["difficulty"]))  # fmt: skip
    assert got.loc["my-new-model", "lc_method"] == "fitted"
    d = pd.read_csv(lc_files["difficulty"], index_col=0).squeeze().to_numpy()
    want = alpaca_noreg_oracle(pd.read_json(src), d, tmp_path, monkeypatch)
    assert got.loc["my-new-model", "length_controlled_winrate"] == pytest.approx(want["length_controlled_winrate"], abs=1e-9)
    assert got.loc["my-new-model", "lc_standard_error"] == pytest.approx(want["lc_standard_error"], abs=1e-9)
    # with the difficulty table alone (no weights) every model is fitted the same way
    alone = leaderboard_csv(db, capsys, "--lc-difficulty", str(lc_files["difficulty"]))
    assert alone.loc["my-new-model", "length_controlled_winrate"] == pytest.approx(want["length_controlled_winrate"], abs=1e-9)
    # without any table: Tiebreak's own fit, and the column says so
    plain = leaderboard_csv(db, capsys)
    assert plain.loc["my-new-model", "lc_method"] in ("fitted", "fitted without difficulty")


def test_fit_function_equals_oracle_with_nulls_and_draws(alpaca_dir, tmp_path, monkeypatch) -> None:
    rows = pd.read_json(alpaca_dir / f"results/gpt-3.5-turbo-1106/{JUDGE}/annotations.json").head(300)
    rows.loc[[3, 40], "preference"] = np.nan
    rows.loc[[7], "preference"] = 0  # legacy draw
    d = np.random.default_rng(0).normal(size=805)
    lc, se, w = fit_alpaca_glm(rows["output_1"].str.len().to_numpy(), rows["output_2"].str.len().to_numpy(),
                               rows["preference"].to_numpy(float), d[: len(rows)])  # fmt: skip
    want = alpaca_noreg_oracle(rows, d, tmp_path, monkeypatch)
    assert 100 * lc == pytest.approx(want["length_controlled_winrate"], abs=1e-9)
    assert 100 * se == pytest.approx(want["lc_standard_error"], abs=1e-9)
    assert w.shape == (3,)


def test_bad_lc_files_are_named(tmp_path, capsys, lc_files) -> None:
    bad = tmp_path / "d.csv"
    bad.write_text("index,instruction_difficulty\n0,0.1\n1,oops\n")
    with pytest.raises(MetricsError, match=r"d.csv: line 3: difficulty is not a number"):
        read_difficulty_table(bad)
    (tmp_path / "e.csv").write_text("a,b,c\n1,x,y\n")
    with pytest.raises(MetricsError, match="needs an instruction_difficulty column"):
        read_difficulty_table(tmp_path / "e.csv")
    odd = tmp_path / "weights.csv"
    shutil.copy(lc_files["weights"], odd)
    db = tmp_path / "x.sqlite"
    main(["demo", "--db", str(db)])
    capsys.readouterr()
    code = main(["leaderboard", "--db", str(db), "--lc-weights", str(odd), "--lc-difficulty", str(lc_files["difficulty"])])
    assert code == 2 and "give them (--lc-annotator, --lc-baseline)" in capsys.readouterr().err
