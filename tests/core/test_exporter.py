"""tiebreak.core.formats.exporter: round trips (bit-identical preferences), columns, selections, unknown names."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import pytest

from tiebreak.core.formats.exporter import (
    ALPACA_META,
    CROSS_COLUMNS,
    EXPORT_FORMATS,
    export_annotations,
    export_records,
)
from tiebreak.core.formats.importer import import_files
from tiebreak.core.store import Store, UnknownName

RESULTS = ("alpaca-7b/alpaca_eval_cot_gpt4_turbo_fn", "alpaca-7b/alpaca_eval_gpt4",
           "NullModel/weighted_alpaca_eval_gpt4_turbo")  # fmt: skip
COMPARE = ["instruction", "output_1", "output_2", "generator_1", "generator_2", "dataset", "annotator",
           "annotator_name", "annotator_kind", "annotator_index", "seed", "preference",
           "price_per_example", "time_per_example", "raw_completion", "rationale", "swapped"]  # fmt: skip
SUFFIX = {"alpaca-eval": ".json", "cross-annotations": ".json", "csv": ".csv", "jsonl": ".jsonl"}
BASE = {"instruction": "Say hi", "output_1": "hi", "output_2": "hello", "generator_1": "ref",
        "generator_2": "model", "annotator": "judge_x", "preference": 1.75}  # fmt: skip


def bits(values: list) -> list:
    """Preferences as raw IEEE-754 bit patterns (None kept)."""
    return [None if v is None or v != v else struct.pack("<d", v) for v in values]


def rows(store: Store) -> list[tuple]:
    return store.conn.execute(
        "SELECT preference, raw_completion, extra, price, seconds, seed, swapped, rationale"
        " FROM annotations ORDER BY id"
    ).fetchall()


@pytest.fixture(scope="module")
def source(alpaca_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file DB holding three real files (dict raw completions, legacy 0 draws, extras)."""
    path = tmp_path_factory.mktemp("src") / "src.sqlite"
    store = Store(path, create=True)
    files = [alpaca_dir / "results" / r / "annotations.json" for r in RESULTS]
    # 300 rows of each keep the test quick; every quirk is in the first rows of its file
    small = []
    for i, f in enumerate(files):
        p = path.parent / f"{i}.json"
        p.write_text(json.dumps(json.loads(f.read_text("utf-8"))[:300]), "utf-8")
        small.append(p)
    import_files(store, small)
    humans = [{**BASE, "annotator": "humans", "annotator_index": w, "preference": 1 + w / 3} for w in range(4)]
    humans.append({**BASE, "annotator": "panel", "annotator_index": "ann", "annotator_kind": "human",
                   "preference": None, "rationale": "both fine", "swapped": True})  # fmt: skip
    (path.parent / "h.json").write_text(json.dumps(humans), "utf-8")
    import_files(store, [path.parent / "h.json"])
    store.close()
    return path


@pytest.mark.parametrize("fmt", ["alpaca-eval", "csv", "jsonl"])
def test_round_trip_gives_the_same_rows(source: Path, tmp_path: Path, fmt: str) -> None:
    store = Store(source, create=True)
    out = tmp_path / f"out{SUFFIX[fmt]}"
    n = export_annotations(store, out, fmt, extra_columns=True)
    assert n == store.counts()["annotations"] == 905
    fresh = Store(tmp_path / "fresh.sqlite", create=True)
    report = import_files(fresh, [out])
    assert report.added == n
    before, after = store.annotations_frame()[COMPARE], fresh.annotations_frame()[COMPARE]
    assert bits(list(before["preference"])) == bits(list(after["preference"]))
    assert before.equals(after)
    assert rows(store) == rows(fresh)  # raw completions, extras and all metadata too
    # and the export of the re-import is the same file
    again = tmp_path / f"again{SUFFIX[fmt]}"
    export_annotations(fresh, again, fmt, extra_columns=True)
    assert again.read_bytes() == out.read_bytes()
    # importing the export into the source adds nothing
    assert import_files(store, [out]).added == 0


def test_cross_annotations_columns_and_round_trip(source: Path, tmp_path: Path) -> None:
    store = Store(source, create=True)
    out = tmp_path / "cross.json"
    export_annotations(store, out, "cross-annotations", annotators=["humans", "panel"])
    data = json.loads(out.read_text("utf-8"))
    assert len(data) == 5
    assert set(CROSS_COLUMNS) <= set(data[0]) <= {*CROSS_COLUMNS, "dataset", "annotator_kind"}
    assert [d["annotator_index"] for d in data] == [0, 1, 2, 3, "ann"]
    assert data[-1]["annotator_kind"] == "human" and "annotator_kind" not in data[0]
    fresh = Store(memory=True)
    assert import_files(fresh, [out]).files[0].format == "cross-annotations"
    cols = ["annotator", "annotator_name", "annotator_kind", "annotator_index", "preference"]
    assert store.annotations_frame(groups=["humans", "panel"])[cols].equals(fresh.annotations_frame()[cols])


def test_floats_are_written_with_full_precision(store: Store, tmp_path: Path) -> None:
    p = 1 + 1 / 3  # 1.3333333333333333: pandas would round it to 10 decimals
    (tmp_path / "a.json").write_text(json.dumps([{**BASE, "preference": p, "price_per_example": 0.1 + 0.2}]))
    import_files(store, [tmp_path / "a.json"])
    for fmt in EXPORT_FORMATS:
        out = tmp_path / f"o{SUFFIX[fmt]}"
        export_annotations(store, out, fmt, force=True)  # two formats share a suffix
        assert repr(p) in out.read_text("utf-8") and "1.3333333333\"" not in out.read_text("utf-8")
    with open(tmp_path / "o.csv", encoding="utf-8", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert float(row["preference"]) == p and float(row["price_per_example"]) == 0.1 + 0.2


def test_alpaca_eval_export_restores_the_original_records(alpaca_dir: Path, store: Store, tmp_path: Path) -> None:
    src = alpaca_dir / "results/alpaca-7b/alpaca_eval_cot_gpt4_turbo_fn/annotations.json"
    original = json.loads(src.read_text("utf-8"))[:50]
    (tmp_path / "in.json").write_text(json.dumps(original), "utf-8")
    import_files(store, [tmp_path / "in.json"])
    exported = export_records(store, "alpaca-eval", extra_columns=True)
    renamed = [{ALPACA_META.get(k, k): v for k, v in rec.items()} for rec in original]
    assert exported == renamed  # same values, 0.6.6 names, dicts restored as dicts


def test_selection_by_annotator_and_generator(source: Path) -> None:
    store = Store(source, create=True)
    judge = export_records(store, "jsonl", annotators=["alpaca_eval_gpt4"])
    assert len(judge) == 300 and {r["generator_1"] for r in judge} == {"text_davinci_003"}
    null = export_records(store, "csv", generators=["example"])
    assert len(null) == 300 and {r["generator_2"] for r in null} == {"example"}
    both = export_records(store, "csv", annotators=["alpaca_eval_cot_gpt4_turbo_fn"],
                          generators=["gpt4_1106_preview"])  # fmt: skip
    assert len(both) == 300
    assert export_records(store, "csv", annotators=["humans"], generators=["example"]) == []


def test_retracted_annotations_are_not_exported(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([BASE, {**BASE, "output_2": "x"}]))
    import_files(store, [tmp_path / "a.json"])
    with store.transaction() as tx:
        tx.retract_annotation(1)
    assert [r["output_2"] for r in export_records(store, "jsonl")] == ["x"]


def test_unknown_names_and_formats(source: Path, tmp_path: Path) -> None:
    store = Store(source, create=True)
    with pytest.raises(UnknownName, match="unknown annotator group 'nobody'.*known: alpaca_eval_cot"):
        export_annotations(store, tmp_path / "x.json", "alpaca-eval", annotators=["nobody"])
    with pytest.raises(UnknownName, match="unknown generator 'gpt-9'"):
        export_records(store, "csv", generators=["gpt-9"])
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        export_records(store, "xml")
    assert not (tmp_path / "x.json").exists()


def test_extra_fields_never_overwrite_columns(store: Store) -> None:
    with store.transaction() as tx:
        i = tx.instruction_id("q")
        comp = tx.comparison_id(i, tx.output_id(i, "ref", "a"), tx.output_id(i, "m", "b"))
        judge = tx.annotator_id("j", "judge")
        tx.add_annotation(comparison_id=comp, annotator_id=judge, preference=2.0, source="judge",
                             extra={"preference": 9, "note": "x"})  # fmt: skip
    for fmt in ("alpaca-eval", "jsonl"):
        (rec,) = export_records(store, fmt, extra_columns=True)
        assert (rec["preference"], rec["extra_preference"], rec["note"]) == (2.0, 9, "x")


def test_round_trip_property(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Any preferences in [1, 2] (or null), prices and texts survive every format bit for bit."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
    # (a blank instruction is refused by the importer)
    record = st.fixed_dictionaries({
        "instruction": texts.filter(str.strip), "output_1": texts, "output_2": texts, "generator_1": st.just("ref"),
        "generator_2": st.sampled_from(["m1", "m2"]), "annotator": st.sampled_from(["j", "humans"]),
        "annotator_index": st.integers(0, 3),
        "preference": st.one_of(st.none(), st.floats(1, 2)),
        "price_per_example": st.one_of(st.none(), st.floats(0, 1e3)),
        "raw_completion": st.one_of(st.none(), texts, st.dictionaries(st.text(max_size=5), st.floats(allow_nan=False))),
    })  # fmt: skip

    @settings(max_examples=12, deadline=None)
    @given(st.lists(record, min_size=1, max_size=6))
    def check(records: list[dict]) -> None:
        tmp = tmp_path_factory.mktemp("prop")
        (tmp / "in.json").write_text(json.dumps(records), "utf-8")
        src = Store(memory=True)
        import_files(src, [tmp / "in.json"])
        for fmt in ("alpaca-eval", "csv", "jsonl"):
            out = tmp / f"o{SUFFIX[fmt]}"
            export_annotations(src, out, fmt, extra_columns=True)
            dst = Store(memory=True)
            import_files(dst, [out])
            assert rows(dst) == rows(src), fmt
            a, b = src.annotations_frame()[COMPARE], dst.annotations_frame()[COMPARE]
            assert bits(list(a["preference"])) == bits(list(b["preference"])) and a.equals(b), fmt

    check()


def test_mixed_seeds_and_empty_strings_round_trip(store: Store, tmp_path: Path) -> None:
    """Regressions found by the property test: seed 0 beside seed 1; '' vs null in CSV."""
    recs = [{**BASE, "annotator_index": 1, "raw_completion": ""}, {**BASE, "annotator_index": 0, "rationale": ""}]
    (tmp_path / "in.json").write_text(json.dumps(recs), "utf-8")
    import_files(store, [tmp_path / "in.json"])
    for fmt in ("alpaca-eval", "csv"):
        out = tmp_path / f"o{SUFFIX[fmt]}"
        export_annotations(store, out, fmt, extra_columns=True)
        fresh = Store(memory=True)
        import_files(fresh, [out])
        assert rows(fresh) == rows(store) and rows(store)[0][1] == "" and rows(store)[1][7] == ""
