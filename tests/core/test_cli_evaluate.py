"""The new-model flow: `tiebreak import` + `tiebreak judge --reference R --generator G`, and
`tiebreak evaluate`, from two real model_outputs.json files, against the loopback judge."""

from __future__ import annotations

import json

import pytest

from tests.support.judge_data import add_comparisons
from tiebreak.core.cli import build_parser, cmd_leaderboard, main
from tiebreak.core.store import Store

N = 30
REF, GEN = "gpt4_1106_preview", "alpaca-7b"


def subset(alpaca_dir, tmp_path, n=N, drop_ref=(), drop_gen=()):
    """The first n instructions of both real files (some dropped on one side), as files."""
    paths = []
    for name, drop in ((REF, drop_ref), (GEN, drop_gen)):
        rows = json.loads((alpaca_dir / "results" / name / "model_outputs.json").read_text())[:n]
        rows = [r for i, r in enumerate(rows) if i not in drop]
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(rows))
        paths.append(path)
    return paths


def seeded_db(path):
    """A database holding one unrelated comparison (no command treats it as new)."""
    store = Store(path, create=True)
    add_comparisons(store, 1, reference="other-ref", generator="other-model", prefix="Unrelated")
    store.close()
    return str(path)


def test_import_then_judge_pairs_and_gives_the_row_evaluate_gives(alpaca_dir, tmp_path, fake_openai, capsys):
    ref_file, gen_file = subset(alpaca_dir, tmp_path, drop_ref=(3,), drop_gen=(5, 6))
    db = seeded_db(tmp_path / "flow.sqlite")
    assert main(["import", "--db", db, str(ref_file), str(gen_file)]) == 0
    args = ["judge", "--db", db, "--config", "weighted_alpaca_eval_gpt4_turbo", "--base-url", fake_openai.base_url,
            "--reference", REF, "--generator", GEN]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    assert f"paired {GEN} with reference {REF}: {N - 3} new comparison(s), 0 already there" in captured.err
    assert f"2 instruction(s) only in {REF}'s outputs" in captured.err
    assert f"1 instruction(s) only in {GEN}'s outputs" in captured.err
    assert fake_openai.chat_requests == N - 3
    assert main(["leaderboard", "--db", db, "--annotator", "weighted_alpaca_eval_gpt4_turbo", "--reference", REF,
                 "--format", "json"]) == 0  # fmt: skip
    capsys.readouterr()

    other = seeded_db(tmp_path / "evaluate.sqlite")
    assert main(["evaluate", "--db", other, "--model-outputs", str(gen_file), "--reference-outputs", str(ref_file),
                 "--config", "weighted_alpaca_eval_gpt4_turbo", "--base-url", fake_openai.base_url,
                 "--format", "json"]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    row = json.loads(out)
    assert fake_openai.chat_requests == 2 * (N - 3)  # its own database: asked again
    assert "leaderboard cache: 1 panel(s), 1 row(s) refitted" in err  # the next leaderboard fits nothing
    lb_args = build_parser(command="leaderboard").parse_args(["leaderboard"])
    warm = Store(other)
    try:
        assert cmd_leaderboard.cached_records(warm, lb_args) is not None
    finally:
        warm.close()
    store = Store(db)
    frame = store.annotations_frame(sources=["judge"])
    store.close()
    x = frame["preference"] - 1
    assert row["win_rate"] == pytest.approx(100 * x.mean(), abs=1e-9)
    assert row["standard_error"] == pytest.approx(100 * x.std(ddof=1) / len(x) ** 0.5, abs=1e-9)
    assert (row["n_total"], row["n_wins"] + row["n_wins_base"] + row["n_draws"]) == (N - 3, N - 3)
    gen_rows = json.loads(gen_file.read_text())
    assert row["avg_length"] == int(sum(len(r["output"]) for r in gen_rows) / len(gen_rows))
    assert row["length_controlled_winrate"] is not None and row["lc_method"]


def test_evaluate_matches_alpaca_eval_evaluate(alpaca_dir, tmp_path, fake_openai, capsys, monkeypatch):
    alpaca_main = pytest.importorskip("alpaca_eval.main")
    ref_file, gen_file = subset(alpaca_dir, tmp_path, n=20)
    db = seeded_db(tmp_path / "t.sqlite")
    assert main(["evaluate", "--db", db, "--model-outputs", str(gen_file), "--reference-outputs", str(ref_file),
                 "--config", "alpaca_eval_gpt4_turbo_fn", "--base-url", fake_openai.base_url, "--format", "json"]) == 0  # fmt: skip
    row = json.loads(capsys.readouterr().out)
    clients = tmp_path / "clients.yaml"
    clients.write_text(f"default:\n  - api_key: dummy\n    base_url: {fake_openai.base_url}\n")
    monkeypatch.setenv("OPENAI_API_KEY", "dummy")
    lb, _ = alpaca_main.evaluate(
        model_outputs=str(gen_file), reference_outputs=str(ref_file), annotators_config="alpaca_eval_gpt4_turbo_fn",
        output_path=None, precomputed_leaderboard=None, is_return_instead_of_print=True, fn_metric="get_winrate",
        sort_by="win_rate", caching_path=str(tmp_path / "cache.json"),
        annotation_kwargs={"client_config_path": str(clients)},
    )  # fmt: skip
    theirs = lb.iloc[0]
    for col in ("win_rate", "standard_error", "discrete_win_rate"):
        assert row[col] == pytest.approx(theirs[col], abs=1e-9), col
    for col in ("n_wins", "n_wins_base", "n_draws", "n_total", "avg_length"):
        assert row[col] == int(theirs[col]), col


def test_empty_scope_is_an_error_listing_what_exists(tmp_path, fake_openai, capsys):
    db = seeded_db(tmp_path / "t.sqlite")
    code = main(["judge", "--db", db, "--config", "tiebreak-ranking", "--base-url", fake_openai.base_url,
                 "--reference", "other-model"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "no comparison matches reference other-model, generator(s) any" in err
    code = main(["judge", "--db", db, "--config", "tiebreak-ranking", "--base-url", fake_openai.base_url,
                 "--labelled-by", "nobody"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "no comparison matches reference any, generator(s) any, labelled by nobody" in err
    assert "Generators: other-model, other-ref" in err and "other-ref vs other-model (1)" in err
    assert fake_openai.chat_requests == 0


def test_duplicates_that_disagree_are_refused_and_nothing_changes(tmp_path, fake_openai, capsys):
    db = seeded_db(tmp_path / "t.sqlite")
    ref = [{"instruction": "Say hi", "output": "hi", "generator": "r"}]
    gen_1 = [{"instruction": "Say hi", "output": "hello", "generator": "g"}]
    gen_2 = [{"instruction": "Say hi", "output": "hey there", "generator": "g"}]  # a second run, other answer
    for name, rows in (("r", ref), ("g1", gen_1), ("g2", gen_2)):
        (tmp_path / f"{name}.json").write_text(json.dumps(rows))
    files = [str(tmp_path / f"{n}.json") for n in ("r", "g1", "g2")]
    assert main(["import", "--db", db, *files]) == 0
    store = Store(db)
    before = store.counts()
    store.close()
    code = main(["judge", "--db", db, "--config", "tiebreak-ranking", "--base-url", fake_openai.base_url,
                 "--reference", "r", "--generator", "g"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "generator 'g' has different outputs for the same instruction" in err and "'Say hi'" in err
    store = Store(db)
    assert store.counts() == before
    store.close()
    assert fake_openai.chat_requests == 0


def test_judge_never_loads_the_bundled_sample(tmp_path, fake_openai, capsys):
    """Regression: on a database without comparisons the judge loaded the sample and judged it."""
    from tiebreak.core.formats.importer import import_files

    ref = [{"instruction": "Say hi", "output": "hi", "generator": "r"}]
    (tmp_path / "r.json").write_text(json.dumps(ref))
    db = tmp_path / "fresh.sqlite"
    store = Store(db, create=True)
    import_files(store, [tmp_path / "r.json"])  # outputs only: no comparison yet
    store.close()
    code = main(["judge", "--db", str(db), "--config", "weighted_alpaca_eval_gpt4_turbo",
                 "--base-url", fake_openai.base_url])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "no comparison matches" in err and "Generators: r." in err
    store = Store(db)
    assert store.generators() == ["r"] and store.counts()["comparisons"] == 0
    store.close()
    assert fake_openai.chat_requests == 0


def test_imported_alpaca_eval_annotations_count_as_that_judges_cache(alpaca_dir, tmp_path, fake_openai, capsys):
    """AlpacaEval's own annotations under the evaluator's name are reused, as its cache would be."""
    name = "weighted_alpaca_eval_gpt4_turbo"
    rows = json.loads((alpaca_dir / "results" / GEN / name / "annotations.json").read_text())[:12]
    (tmp_path / "annotations.json").write_text(json.dumps(rows[:10]))
    for gen, key in ((REF, "output_1"), (GEN, "output_2")):
        outputs = [{"instruction": r["instruction"], "output": r[key], "generator": gen} for r in rows]
        (tmp_path / f"{gen}.json").write_text(json.dumps(outputs))
    db = seeded_db(tmp_path / "t.sqlite")
    files = [str(tmp_path / f) for f in ("annotations.json", f"{REF}.json", f"{GEN}.json")]
    assert main(["import", "--db", db, *files]) == 0
    code = main(["judge", "--db", db, "--config", name, "--base-url", fake_openai.base_url,
                 "--reference", REF, "--generator", GEN])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "already judged:      10" in out and "done (new verdicts): 2" in out
    assert fake_openai.chat_requests == 2
    store = Store(db)
    config = store.annotator_row(name=name)["config"]
    store.close()
    assert json.loads(config)["alpaca_name"] == name  # the version that judged the rest is recorded


def test_both_orders_is_refused_for_alpaca_eval_configurations(tmp_path, capsys):
    db = seeded_db(tmp_path / "t.sqlite")
    assert main(["judge", "--db", db, "--config", "weighted_alpaca_eval_gpt4_turbo", "--both-orders"]) == 2
    assert "--both-orders is not available with an AlpacaEval configuration" in capsys.readouterr().err
