"""tiebreak.core.formats.importer: stable identities, atomic imports, conflicts, bad input, real AlpacaEval files."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tiebreak.core.formats import FormatError
from tiebreak.core.formats.importer import import_files
from tiebreak.core.store import Store

MESSAGE = re.compile(r"^(.+): record (\d+): field (\S+): (.+)$", re.S)
WEIGHTED = "weighted_alpaca_eval_gpt4_turbo"
#: results folder -> generator_2 in its files (NullModel's files call it "example")
MODELS = {"FuseChat-Gemma-2-9B-Instruct": "FuseChat-Gemma-2-9B-Instruct",
          "FuseChat-Llama-3.2-3B-Instruct": "FuseChat-Llama-3.2-3B-Instruct",
          "NullModel": "example", "alpaca-7b": "alpaca-7b", "claude-2.1": "claude-2.1",
          "gpt-3.5-turbo-1106": "gpt-3.5-turbo-1106"}  # fmt: skip
BASE = {"instruction": "Say hi", "output_1": "hi", "output_2": "hello", "generator_1": "ref",
        "generator_2": "model", "annotator": "judge_x", "preference": 1.75}  # fmt: skip


def weighted_files(alpaca_dir: Path) -> list[Path]:
    return [alpaca_dir / "results" / m / WEIGHTED / "annotations.json" for m in MODELS]


def write_json(path: Path, records: object) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def snapshot(store: Store) -> list[str]:
    """Every row of every table (the database 'exactly as it was')."""
    return list(store.conn.iterdump())


def table(store: Store, sql: str) -> list[tuple]:
    return store.conn.execute(sql).fetchall()


# -- real files --------------------------------------------------------------------------------
def test_six_weighted_files_into_a_file_db(alpaca_dir: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "t.sqlite", create=True)
    report = import_files(store, weighted_files(alpaca_dir))
    assert (report.records, report.added) == (4830, 4830)
    assert store.counts() == {"instructions": 805, "outputs": 805 * 7, "comparisons": 4830,
                              "annotators": 1, "annotations": 4830}  # fmt: skip
    distinct = set()  # every text stored exactly once
    for path in weighted_files(alpaca_dir):
        for r in json.loads(path.read_text("utf-8")):
            distinct.update((r["instruction"], r["output_1"], r["output_2"]))
    assert table(store, "SELECT count(*) FROM texts")[0][0] == len(distinct)
    assert table(store, "SELECT count(DISTINCT sha1), count(DISTINCT body) FROM texts")[0] == (len(distinct),) * 2
    assert table(store, "SELECT count(*), sum(n_added) FROM imports") == [(6, 4830)]
    ordinals = table(store, "SELECT ordinal FROM instructions ORDER BY id")
    assert [o for (o,) in ordinals] == list(range(805))  # canonical AlpacaEval order
    store.close()


def test_imported_preferences_reproduce_the_leaderboard(alpaca_dir: Path, store: Store) -> None:
    """Oracle: the published win rates (to 1e-9) from what the database holds."""
    import_files(store, weighted_files(alpaca_dir))
    board = {}
    with open(alpaca_dir / "leaderboards" / f"{WEIGHTED}_leaderboard.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            board[row[""]] = row
    frame = store.annotations_frame(with_texts=False)
    for folder, generator in MODELS.items():
        p = frame.loc[frame["generator_2"] == generator, "preference"].dropna().to_numpy()
        assert len(p) == int(board[folder]["n_total"])
        assert 100 * (p - 1).mean() == pytest.approx(float(board[folder]["win_rate"]), abs=1e-6)
        assert int(((p - 1) == 0.5).sum()) == int(board[folder]["n_draws"])


def test_legacy_file_and_model_outputs(alpaca_dir: Path, store: Store) -> None:
    res = alpaca_dir / "results" / "alpaca-7b"
    report = import_files(store, [res / "alpaca_eval_gpt4/annotations.json", res / "model_outputs.json"])
    legacy, outputs = report.files
    assert legacy.new["annotations"] == 805 and legacy.new["annotators"] == 1
    assert (outputs.kind, outputs.added, outputs.already_present) == ("outputs", 0, 805)
    rows = table(store, "SELECT raw_preference, preference, count(*) FROM annotations "
                        "WHERE raw_preference = 0 GROUP BY 1, 2")  # fmt: skip
    assert rows == [(0.0, 1.5, 16)]
    kinds = table(store, "SELECT name, kind, group_name, member FROM annotators")
    assert kinds == [("alpaca_eval_gpt4", "judge", "alpaca_eval_gpt4", None)]


# -- stable identities -------------------------------------------------------------------------
def test_importing_twice_adds_nothing(alpaca_dir: Path, store: Store, tmp_path: Path) -> None:
    path = alpaca_dir / "results/claude-2.1" / WEIGHTED / "annotations.json"
    import_files(store, [path])
    before = store.counts()
    again = import_files(store, [path])
    assert again.added == 0 and again.files[0].previous_import == 1
    # the same data in other bytes (JSON lines): checked record by record, still nothing added
    rows = json.loads(path.read_text("utf-8"))
    jl = tmp_path / "copy.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    third = import_files(store, [jl])
    assert (third.added, third.files[0].already_present) == (0, 805)
    assert store.counts() == before


def test_same_text_stored_once(store: Store, tmp_path: Path) -> None:
    recs = [BASE, {**BASE, "generator_2": "other", "output_2": "hi", "preference": 1.5}]
    import_files(store, [write_json(tmp_path / "a.json", recs)])
    assert table(store, "SELECT count(*) FROM texts") == [(3,)]  # "Say hi", "hi", "hello"
    assert store.counts()["outputs"] == 3  # ref:hi, model:hello, other:hi (one text)


def test_duplicates_within_a_file_are_counted(store: Store, tmp_path: Path) -> None:
    report = import_files(store, [write_json(tmp_path / "a.json", [BASE, BASE])])
    assert (report.added, report.files[0].duplicates) == (1, 1)


# -- atomicity and bad input -------------------------------------------------------------------
def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, int, str]]:
    """name -> (file, record, field) of each bad-input case the issue lists."""
    text = json.dumps([BASE, BASE, {**BASE, "generator_2": "m3"}], indent=2)
    truncated = tmp_path / "truncated.json"
    truncated.write_text(text[:-40], "utf-8")
    utf8 = tmp_path / "utf8.json"
    utf8.write_bytes(json.dumps([BASE, {**BASE, "output_2": "\xe9"}], ensure_ascii=False)
                     .encode().replace("\xe9".encode(), b"\xe9"))  # fmt: skip
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    missing = write_json(tmp_path / "missing.json", [BASE, {k: v for k, v in BASE.items() if k != "output_1"}])
    return {
        "truncated": (truncated, 3, "-"),
        "missing": (missing, 2, "output_1"),
        "wrong type": (write_json(tmp_path / "type.json", [{**BASE, "preference": "1.5"}]), 1, "preference"),
        "outside": (write_json(tmp_path / "range.json", [BASE, {**BASE, "preference": 2.0001}]), 2, "preference"),
        "conflict": (write_json(tmp_path / "dup.json", [BASE, BASE, {**BASE, "preference": 1.0}]), 3, "preference"),
        "utf8": (utf8, 2, "-"),
        "empty": (empty, 1, "-"),
    }


@pytest.mark.parametrize("case", ["truncated", "missing", "wrong type", "outside", "conflict", "utf8", "empty"])
def test_bad_input_leaves_the_database_unchanged(alpaca_dir: Path, tmp_path: Path, case: str) -> None:
    store = Store(tmp_path / "db.sqlite", create=True)
    legacy = alpaca_dir / "results/alpaca-7b/alpaca_eval_gpt4/annotations.json"
    import_files(store, [write_json(tmp_path / "prior.json", json.loads(legacy.read_text("utf-8"))[:40])])
    before = snapshot(store)
    good = write_json(tmp_path / "good.json", [{**BASE, "generator_2": "fresh"}])
    path, record, field = bad_inputs(tmp_path)[case]
    with pytest.raises(FormatError) as info:
        import_files(store, [good, path])  # the good file is rolled back too
    m = MESSAGE.match(str(info.value))
    assert m and (m[1], int(m[2]), m[3]) == (str(path), record, field), str(info.value)
    assert snapshot(store) == before
    store.close()
    assert snapshot(Store(tmp_path / "db.sqlite", create=True)) == before  # and on disk


def test_conflict_with_the_database(store: Store, tmp_path: Path) -> None:
    import_files(store, [write_json(tmp_path / "a.json", [BASE])])
    before = snapshot(store)
    with pytest.raises(FormatError, match=r"b\.json: record 2: field preference: 1\.0 conflicts with the stored 1\.75"):
        import_files(store, [write_json(tmp_path / "b.json", [{**BASE, "output_2": "new"}, {**BASE, "preference": 1}])])
    assert snapshot(store) == before
    # a different seed of the same judge is a different annotation, not a conflict
    other_seed = {**BASE, "preference": 1, "annotator_index": 1}
    assert import_files(store, [write_json(tmp_path / "c.json", [other_seed])]).added == 1


def test_error_after_writes_rolls_back(store: Store, tmp_path: Path) -> None:
    """A conflict found after texts and outputs were inserted still leaves nothing behind."""
    import_files(store, [write_json(tmp_path / "a.json", [BASE])])
    before = snapshot(store)
    late = [{**BASE, "instruction": f"new {i}"} for i in range(50)] + [{**BASE, "preference": 2}]
    with pytest.raises(FormatError, match="record 51: field preference"):
        import_files(store, [write_json(tmp_path / "late.json", late)])
    assert snapshot(store) == before
    assert import_files(store, [write_json(tmp_path / "ok.json", late[:50])]).added == 50


def test_five_megabyte_output_is_accepted(store: Store, tmp_path: Path) -> None:
    big = "word " * 1_000_000
    report = import_files(store, [write_json(tmp_path / "big.json", [{**BASE, "output_2": big}])])
    assert report.added == 1
    assert store.pair(1).output_2 == big


# -- cross-annotations -------------------------------------------------------------------------
def test_cross_annotations_humans_and_judge_seeds(store: Store, tmp_path: Path) -> None:
    rows = [{**BASE, "annotator": "humans", "annotator_index": w, "preference": 1 + (w % 2)} for w in range(4)]
    rows += [{**BASE, "annotator": "my_judge", "annotator_index": s, "preference": 1.25 + s / 10} for s in range(4)]
    report = import_files(store, [write_json(tmp_path / "cross.json", rows)])
    assert report.files[0].format == "cross-annotations" and report.added == 8
    names = table(store, "SELECT name, kind, group_name, member FROM annotators ORDER BY id")
    assert names == [(f"humans/{w}", "human", "humans", str(w)) for w in range(4)] + [
        ("my_judge", "judge", "my_judge", None)
    ]
    frame = store.annotations_frame(with_texts=False)
    judge = frame[frame["annotator"] == "my_judge"]
    assert list(judge["seed"]) == [0, 1, 2, 3] and list(judge["annotator_index"]) == ["0", "1", "2", "3"]
    assert store.counts()["comparisons"] == 1
    with pytest.raises(FormatError, match="must be an integer"):
        import_files(store, [write_json(tmp_path / "x.json", [{**BASE, "annotator_index": "w1"}])])


def test_annotator_kind_column_and_group_consistency(store: Store, tmp_path: Path) -> None:
    rows = [{**BASE, "annotator": "crowd", "annotator_index": "ann", "annotator_kind": "human"}]
    import_files(store, [write_json(tmp_path / "a.json", rows)])
    assert table(store, "SELECT name, kind FROM annotators") == [("crowd/ann", "human")]
    # the group is now known as human: a later file without the column agrees
    import_files(store, [write_json(tmp_path / "b.json", [{**BASE, "annotator": "crowd", "annotator_index": 2}])])
    assert table(store, "SELECT DISTINCT kind FROM annotators") == [("human",)]
    bad = [{**BASE, "annotator": "crowd", "annotator_index": 3, "annotator_kind": "judge"}]
    with pytest.raises(FormatError, match="field annotator_kind: group 'crowd' is a human group"):
        import_files(store, [write_json(tmp_path / "c.json", bad)])


def test_existing_human_member_is_reused(store: Store, tmp_path: Path) -> None:
    with store.transaction() as tx:
        alice = tx.annotator_id("alice", "human", group="humans", member="alice")
    rows = [{**BASE, "annotator": "humans", "annotator_index": "alice"}]
    import_files(store, [write_json(tmp_path / "a.json", rows)])
    assert table(store, "SELECT annotator_id FROM annotations") == [(alice,)]


def test_model_outputs_duplicates_and_conflicts(store: Store, tmp_path: Path) -> None:
    out = {"instruction": "q", "output": "a", "generator": "m", "dataset": "d"}
    report = import_files(store, [write_json(tmp_path / "o.json", [out, out, {**out, "generator": "n"}])])
    f = report.files[0]
    assert (f.kind, f.added, f.duplicates, f.new["instructions"]) == ("outputs", 2, 1, 1)
    assert table(store, "SELECT dataset FROM instructions") == [("d",)]
    before = snapshot(store)
    with pytest.raises(FormatError, match=r"record 2: field output: differs from record 1"):
        import_files(store, [write_json(tmp_path / "p.json", [{**out, "instruction": "z"}, {**out, "instruction": "z", "output": "b"}])])
    assert snapshot(store) == before


def test_imports_table_records_each_import(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", [BASE, {**BASE, "annotator_index": 2}])
    import_files(store, [path])
    rows = table(store, "SELECT path, format, n_records, n_added FROM imports")
    assert rows == [(str(path.resolve()), "alpaca-eval", 2, 2)]
    assert table(store, "SELECT DISTINCT import_id, source FROM annotations") == [(1, "import")]
