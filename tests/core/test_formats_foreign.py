"""Other tools' pairwise formats: Arena, MT-Bench, HF preference rows, Parquet, Label Studio, Argilla."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from tiebreak.core.cli import main
from tiebreak.core.formats import FormatError, read_file
from tiebreak.core.formats.importer import import_files
from tiebreak.core.formats.writers import export_other
from tiebreak.core.store import Store

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
EXAMPLES = {  # file -> (detected format, annotation records)
    "arena_battles.json": ("arena", 10),
    "mtbench_gpt-4_pair.jsonl": ("mt-bench", 6),
    "hf_preferences.jsonl": ("hf-preference", 3),
    "hf_preferences.parquet": ("hf-preference", 2),
    "labelstudio_pairwise.json": ("label-studio", 3),
    "argilla_v2_records.json": ("argilla", 3),
    "argilla_v1_hub.jsonl": ("argilla", 3),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_are_detected_by_content_and_imported(name: str, store: Store) -> None:
    fmt, n = EXAMPLES[name]
    parsed = read_file(DATA / name)
    assert (parsed.format, parsed.n_records) == (fmt, n)
    report = import_files(store, [DATA / name])
    assert report.files[0].format == fmt and report.added == n
    assert import_files(store, [DATA / name]).added == 0  # idempotent


def prefs(store: Store, group: str) -> list[tuple]:
    frame = store.annotations_frame(groups=[group])
    return list(zip(frame["generator_1"], frame["generator_2"], frame["annotator_index"], frame["preference"],
                    frame["swapped"], strict=True))  # fmt: skip


def test_arena_winner_mapping_and_voters(store: Store) -> None:
    import_files(store, [DATA / "arena_battles.json"])
    rows = prefs(store, "arena_humans")
    assert rows[:3] == [("gpt-4", "claude-v1", "arena_user_9100", 1.5, 0),
                        ("gpt-4", "vicuna-13b", "arena_user_9101", 1.0, 0),
                        ("gpt-4", "alpaca-13b", "arena_user_9102", 1.0, 0)]  # fmt: skip
    assert rows[5][3] == 1.5 and rows[3][3] == 2.0  # tie (bothbad) is a draw; model_b won
    kinds = {g["group"]: g["kind"] for g in store.groups()}
    assert kinds["arena_humans"] == "human"
    extra = json.loads(store.conn.execute("SELECT extra FROM annotations WHERE id = 6").fetchone()[0])
    assert extra["arena_winner"] == "tie (bothbad)" and extra["arena_question_id"]


def test_mtbench_two_games_seeds_and_swaps(store: Store) -> None:
    import_files(store, [DATA / "mtbench_gpt-4_pair.jsonl"])
    single = prefs(store, "gpt-4_pair-v2")
    assert single[:2] == [("gpt-4", "vicuna-13b-v1.2", "0", 1.0, 0), ("gpt-4", "vicuna-13b-v1.2", "1", 1.0, 1)]
    assert single[2][3] == 2.0 and pd.isna(single[3][3])  # g2 "error": unparsed
    multi = store.annotations_frame(groups=["gpt-4_pair-v2-multi-turn"])
    assert multi["instruction"].iloc[0].startswith("Compose an engaging travel blog post")
    assert "Start every sentence with the letter A." in multi["instruction"].iloc[0]
    assert multi["output_1"].iloc[0] == "Aloha! My week on Oahu began at Waikiki...\n\nAloha! Astonishing beaches awaited..."
    raw = store.conn.execute("SELECT raw_completion, raw_preference FROM annotations ORDER BY id").fetchall()
    assert raw[0][0].endswith("[[A]]") and raw[1][1] == 2.0  # g2 recorded in its shown (swapped) order


def test_hf_rows_labelstudio_and_argilla_values(store: Store) -> None:
    import_files(store, [DATA / "hf_preferences.jsonl", DATA / "labelstudio_pairwise.json",
                         DATA / "argilla_v2_records.json"])  # fmt: skip
    hf = store.annotations_frame(groups=["hf_preference"])
    assert list(hf["preference"]) == [1.0, 1.0, 1.0] and hf["output_1"].iloc[2] == "Bonne nuit."
    assert (hf["generator_1"].iloc[2], hf["generator_2"].iloc[2]) == ("gpt-4", "falcon-7b")
    ls = prefs(store, "labelstudio_humans")
    assert [r[2:4] for r in ls] == [("3", 1.0), ("5", 2.0), ("3", 1.5)]  # cancelled one left out
    assert list(store.annotations_frame(groups=["labelstudio_humans"])["time_per_example"]) == [14.2, 9.8, 6.1]
    ar = prefs(store, "argilla_humans")
    assert [r[2:4] for r in ar] == [("u-ana", 1.0), ("u-ben", 2.0), ("u-ana", 1.0)]  # the draft left out
    assert ar[0][:2] == ("mistral-7b-instruct", "llama-2-13b-chat")


def test_options_name_generators_the_file_does_not(tmp_path: Path) -> None:
    db = str(tmp_path / "o.sqlite")
    main(["info", "--db", db])
    assert main(["import", "--db", db, "--create", str(DATA / "argilla_v1_hub.jsonl"), "--generator-1", "model-x",
                 "--generator-2", "model-y", "--annotator", "raters"]) == 0  # fmt: skip
    frame = Store(db, create=True).annotations_frame(groups=["raters"])
    assert set(frame["generator_1"]) == {"model-x"} and list(frame["preference"]) == [1.0, 2.0, 1.5]


def test_format_can_be_forced(store: Store, tmp_path: Path) -> None:
    renamed = tmp_path / "export.txt"
    renamed.write_bytes((DATA / "hf_preferences.jsonl").read_bytes())
    assert read_file(renamed, "hf-preference").format == "hf-preference"
    with pytest.raises(FormatError, match=r"labelstudio_pairwise.json: record 1: field winner: expected one of"):
        read_file(DATA / "labelstudio_pairwise.json", "arena")


def _variant(tmp_path: Path, name: str, edit) -> Path:
    src = DATA / name
    if src.suffix == ".jsonl":
        rows = [json.loads(line) for line in src.read_text("utf-8").splitlines()]
        edit(rows)
        out = tmp_path / name
        out.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
        return out
    data = json.loads(src.read_text("utf-8"))
    edit(data)
    out = tmp_path / name
    out.write_text(json.dumps(data), "utf-8")
    return out


MALFORMED = [
    ("arena_battles.json", lambda d: d[1].update(winner="model_c"), "record 2: field winner: expected one of"),
    ("arena_battles.json", lambda d: d[2].pop("conversation_b"), "record 3: field conversation_b: missing"),
    ("arena_battles.json", lambda d: d[0]["conversation_a"][0].update(role="bot"), "record 1: field conversation_a[0].role"),
    ("mtbench_gpt-4_pair.jsonl", lambda d: d[1].update(g1_user_prompt="Judge this."), "record 2: field g1_user_prompt: not FastChat's pair template"),
    ("mtbench_gpt-4_pair.jsonl", lambda d: d[0].update(g2_winner="model_3"), "record 1: field g2_winner"),
    ("hf_preferences.jsonl", lambda d: d[2].update(rejected=5), "record 3: field rejected: expected a string"),
    ("labelstudio_pairwise.json", lambda d: d[1]["annotations"][0]["result"][0].update(value={"selected": "middle"}) or d[1]["annotations"][0]["result"][0].update(type="pairwise"), "record 2: field annotations[0].result.value.selected"),
    ("labelstudio_pairwise.json", lambda d: d[0]["data"].pop("answer2"), "record 1: field data.answer1: missing"),
    ("argilla_v2_records.json", lambda d: d[1]["responses"]["ranking"][0].update(value="response_1"), "record 2: field responses[0].value: expected a ranking"),
    ("argilla_v1_hub.jsonl", lambda d: d[0].update(input=None), "record 1: field prompt: missing"),
]


@pytest.mark.parametrize(("name", "edit", "message"), MALFORMED)
def test_malformed_files_name_file_record_field_and_change_nothing(tmp_path: Path, name: str, edit, message: str) -> None:
    bad = _variant(tmp_path, name, edit)
    store = Store(tmp_path / "db.sqlite", create=True)
    import_files(store, [DATA / "hf_preferences.jsonl"])
    before = store.counts()
    with pytest.raises(FormatError) as info:
        import_files(store, [DATA / "arena_battles.json", bad])
    assert str(bad) in str(info.value) and message in str(info.value)
    assert store.counts() == before


def test_corrupt_parquet_is_named(tmp_path: Path, store: Store) -> None:
    bad = tmp_path / "rows.parquet"
    bad.write_bytes((DATA / "hf_preferences.parquet").read_bytes()[:300])
    with pytest.raises(FormatError, match=r"rows.parquet: record 1: field -: invalid Parquet"):
        import_files(store, [bad])
    assert store.counts()["annotations"] == 0


@pytest.mark.parametrize("fmt", ["arena", "parquet"])
def test_export_and_read_back(store: Store, tmp_path: Path, fmt: str) -> None:
    import_files(store, [DATA / "arena_battles.json", DATA / "mtbench_gpt-4_pair.jsonl"])
    out = tmp_path / f"out.{'json' if fmt == 'arena' else 'parquet'}"
    n = export_other(store, out, fmt)
    fresh = Store(memory=True)
    report = import_files(fresh, [out])
    assert report.files[0].format == ("arena" if fmt == "arena" else "parquet")
    cols = ["instruction", "output_1", "output_2", "generator_1", "generator_2", "preference"]
    if fmt == "arena":  # battles carry no unparsed labels (the MT-Bench "error" game) nor seeds
        assert n == 15
        src = store.annotations_frame().dropna(subset=["preference"])[cols].drop_duplicates().reset_index(drop=True)
        got = fresh.annotations_frame()[cols].drop_duplicates().reset_index(drop=True)
        assert sorted(map(tuple, src.to_numpy().tolist())) == sorted(map(tuple, got.to_numpy().tolist()))
    else:
        assert n == 16
        a = store.annotations_frame()[[*cols, "annotator", "annotator_index", "swapped", "raw_completion"]]
        b = fresh.annotations_frame()[[*cols, "annotator", "annotator_index", "swapped", "raw_completion"]]
        assert a.equals(b)


def test_scenario_arena_battles_in_the_leaderboard(tmp_path: Path, capsys) -> None:
    """An Arena battles file imported from the command line, then its leaderboard."""
    db = str(tmp_path / "arena.sqlite")
    assert main(["import", "--db", db, "--create", str(DATA / "arena_battles.json")]) == 0
    assert "(arena): 10 records" in capsys.readouterr().out
    assert main(["leaderboard", "--db", db, "--annotator", "arena_humans", "--reference", "gpt-4",
                 "--format", "csv"]) == 0  # fmt: skip
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col=0)
    # against gpt-4: claude-v1 tie, win, loss -> 50%; vicuna-13b lost 3 of 3; alpaca-13b lost 2, drew 1
    assert table.loc["claude-v1", "win_rate"] == pytest.approx(50.0)
    assert table.loc["vicuna-13b", "win_rate"] == pytest.approx(0.0)
    assert table.loc["alpaca-13b", "win_rate"] == pytest.approx(100 / 6)
    assert (table.loc["alpaca-13b", "n_draws"], table.loc["claude-v1", "n_wins"]) == (1, 1)
    assert set(table["mode"]) == {"community"} and table["avg_length"].dtype.kind == "i"
    assert main(["leaderboard", "--db", db, "--annotator", "arena_humans", "--resamples", "0"]) == 0
    shown = capsys.readouterr().out
    assert "annotator arena_humans vs reference gpt-4" in shown and "annotator arena_humans vs reference claude-v1" in shown
