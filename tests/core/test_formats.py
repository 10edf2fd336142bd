"""Format detection and record validation of tiebreak.core.formats (real AlpacaEval files and edge cases)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from tiebreak.core.formats import FORMATS, FormatError, detect_format, read_file
from tiebreak.core.formats.records import RAW_JSON_KEY

MESSAGE = re.compile(r"^(?P<file>.+): record (?P<record>\d+): field (?P<field>\S+): (?P<problem>.+)$", re.S)

BASE = {"instruction": "Say hi", "output_1": "hi", "output_2": "hello", "generator_1": "ref",
        "generator_2": "model", "annotator": "judge_x", "preference": 1.75}  # fmt: skip


def write_json(path: Path, records: object) -> Path:
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def error_of(path: Path, fmt: str | None = None) -> re.Match[str]:
    with pytest.raises(FormatError) as info:
        read_file(path, fmt)
    m = MESSAGE.match(str(info.value))
    assert m, f"message not in the FILE: record N: field X: problem form: {info.value}"
    assert m["file"] == str(path)
    assert (info.value.record, info.value.field) == (int(m["record"]), m["field"])
    return m


# -- real files --------------------------------------------------------------------------------
def test_real_files_are_detected(alpaca_dir: Path) -> None:
    res = alpaca_dir / "results"
    ann = read_file(res / "claude-2.1/weighted_alpaca_eval_gpt4_turbo/annotations.json")
    assert (ann.format, ann.kind, ann.n_records) == ("alpaca-eval", "annotations", 805)
    first = ann.annotations[0]
    assert first.group == "weighted_alpaca_eval_gpt4_turbo"
    assert first.generator_1 == "gpt4_1106_preview" and first.generator_2 == "claude-2.1"
    assert first.preference == pytest.approx(1.0000630276, abs=0)
    out = read_file(res / "NullModel/model_outputs.json")
    assert (out.format, out.kind, out.n_records) == ("model-outputs", "outputs", 805)
    assert out.outputs[0].generator == "example"
    assert out.ignored_fields == ["datasplit"]  # reported, not silently dropped
    assert detect_format(res / "alpaca-7b/model_outputs.json") == "model-outputs"


def test_legacy_zero_draws_and_int_preferences(alpaca_dir: Path) -> None:
    parsed = read_file(alpaca_dir / "results/alpaca-7b/alpaca_eval_gpt4/annotations.json")
    draws = [r for r in parsed.annotations if r.raw_preference == 0]
    assert len(draws) == 16
    assert all(r.preference == 1.5 for r in draws)
    assert {r.preference for r in parsed.annotations} == {1.0, 1.5, 2.0}


def test_raw_completion_dict_kept_as_json_text(alpaca_dir: Path) -> None:
    path = alpaca_dir / "results/alpaca-7b/alpaca_eval_cot_gpt4_turbo_fn/annotations.json"
    source = json.loads(path.read_text(encoding="utf-8"))
    parsed = read_file(path)
    for src, rec in zip(source, parsed.annotations, strict=True):
        if src["raw_completion"] is None:
            assert rec.raw_completion is None
        else:
            assert json.loads(rec.raw_completion) == src["raw_completion"]
            assert rec.extra[RAW_JSON_KEY] == "json"
        assert rec.extra.get("referenced_models") == src["referenced_models"]  # non-standard kept
        assert rec.price == src["price_per_example"]


# -- synthetic records -------------------------------------------------------------------------
def test_prefixed_column_names(tmp_path: Path) -> None:
    rec = {**BASE, "preference_price_per_example": 0.01, "preference_time_per_example": 1.25,
           "preference_raw_completion": "Output (b)", "datasplit": "eval"}  # fmt: skip
    a = read_file(write_json(tmp_path / "a.json", [rec])).annotations[0]
    assert (a.price, a.seconds, a.raw_completion) == (0.01, 1.25, "Output (b)")
    assert a.extra == {"datasplit": "eval"}  # a string raw completion needs no type marker


def test_null_nan_and_fractional_preferences(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    records = [{**BASE, "preference": None}, {**BASE, "preference": 1.1234567890123457},
               {**BASE, "preference": 2}]  # fmt: skip
    path.write_text(json.dumps(records), "utf-8")
    recs = read_file(path).annotations
    assert recs[0].preference is None and recs[0].raw_preference is None
    assert recs[1].preference == 1.1234567890123457
    assert recs[2].preference == 2.0
    path.write_text(json.dumps([{**BASE, "preference": float("nan")}]), "utf-8")  # NaN literal
    assert read_file(path).annotations[0].preference is None


def test_cross_annotations_csv_jsonl_and_forcing(tmp_path: Path) -> None:
    cross = [{**BASE, "annotator": "humans", "annotator_index": i, "preference": 1 + i % 2} for i in range(4)]
    p = write_json(tmp_path / "cross.json", cross)
    parsed = read_file(p)
    assert parsed.format == "cross-annotations"
    assert [r.index for r in parsed.annotations] == [0, 1, 2, 3]
    jl = tmp_path / "x.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in cross) + "\n\n", "utf-8")
    assert read_file(jl).format == "jsonl" and read_file(jl).n_records == 4
    weird = tmp_path / "x.data"
    weird.write_text(jl.read_text("utf-8"), "utf-8")
    assert read_file(weird, "jsonl").format == "jsonl"
    csv_path = tmp_path / "x.csv"
    csv_path.write_text("instruction,output_1,output_2,generator_1,generator_2,annotator,annotator_index,"
                        "preference,price_per_example\n\"a, b\",x,y,g1,g2,humans,3,1.5,\n", "utf-8")  # fmt: skip
    rec = read_file(csv_path).annotations[0]
    assert (rec.instruction, rec.index, rec.preference, rec.price) == ("a, b", 3, 1.5, None)
    with pytest.raises(FormatError):
        read_file(p, "model-outputs")  # forcing a format validates against it
    forced = read_file(csv_path, "cross-annotations")  # schema forced, container detected
    assert (forced.format, forced.annotations[0].index) == ("cross-annotations", 3)
    assert read_file(jl, "alpaca-eval").n_records == 4
    assert set(FORMATS) == {"model-outputs", "alpaca-eval", "cross-annotations", "csv", "jsonl", "parquet",
                            "arena", "mt-bench", "label-studio", "argilla", "hf-preference"}


def test_gzip_and_big_output(tmp_path: Path) -> None:
    big = "x" * 5_000_000
    path = tmp_path / "a.json.gz"
    path.write_bytes(gzip.compress(json.dumps([{**BASE, "output_2": big}]).encode()))
    assert read_file(path).annotations[0].output_2 == big


# -- bad input ---------------------------------------------------------------------------------
def test_truncated_json_names_the_record(tmp_path: Path) -> None:
    text = json.dumps([BASE, BASE, BASE], indent=2)
    path = tmp_path / "t.json"
    path.write_text(text[: len(text) - 60], "utf-8")
    m = error_of(path)
    assert (m["record"], m["field"]) == ("3", "-")
    assert "invalid JSON" in m["problem"] and "truncated" in m["problem"]


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"output_2": None}, "output_2", "expected a string, got null"),
        ({"generator_1": 7}, "generator_1", "expected a string, got int 7"),
        ({"preference": "2"}, "preference", "expected a number or null, got str '2'"),
        ({"preference": True}, "preference", "expected a number or null, got bool True"),
        ({"preference": 2.5}, "preference", "2.5 is outside [1, 2]"),
        ({"preference": -1}, "preference", "-1.0 is outside [1, 2]"),
        ({"price_per_example": [1]}, "price_per_example", "expected a number or null, got list [1]"),
        ({"annotator_kind": "robot"}, "annotator_kind", "expected 'human' or 'judge'"),
    ],
)
def test_wrong_types_and_values(tmp_path: Path, change: dict, field: str, problem: str) -> None:
    path = write_json(tmp_path / "a.json", [BASE, {**BASE, **change}])
    m = error_of(path)
    assert (m["record"], m["field"]) == ("2", field)
    assert m["problem"].startswith(problem)


@pytest.mark.parametrize("missing", ["instruction", "output_1", "generator_2", "annotator", "preference"])
def test_missing_field(tmp_path: Path, missing: str) -> None:
    rec = {k: v for k, v in BASE.items() if k != missing}
    m = error_of(write_json(tmp_path / "a.json", [BASE, BASE, rec]))
    assert (m["record"], m["field"], m["problem"]) == ("3", missing, "missing")


def test_cross_annotation_needs_index(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", [BASE])
    m = error_of(path, "cross-annotations")
    assert (m["record"], m["field"]) == ("1", "annotator_index")


def test_invalid_utf8_names_the_record(tmp_path: Path) -> None:
    data = json.dumps([BASE, {**BASE, "output_2": "caf\u00e9"}], indent=1, ensure_ascii=False).encode()
    path = tmp_path / "u.json"
    path.write_bytes(data.replace("caf\u00e9".encode(), b"caf\xff"))
    m = error_of(path)
    assert (m["record"], m["field"]) == ("2", "-")
    assert "invalid UTF-8" in m["problem"] and "ff" in m["problem"]
    jl = tmp_path / "u.jsonl"
    jl.write_bytes(json.dumps(BASE).encode() + b"\n" + json.dumps(BASE).encode()[:-2] + b"\xc3\"}\n")
    assert error_of(jl)["record"] == "2"


@pytest.mark.parametrize("content", [b"", b"  \n", b"[]", b"[\n]\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    m = error_of(path)
    assert (m["record"], m["field"]) == ("1", "-") and "no records" in m["problem"]


def test_other_structural_errors(tmp_path: Path) -> None:
    assert "expected a JSON list" in error_of(write_json(tmp_path / "o.json", {"a": 1}))["problem"]
    m = error_of(write_json(tmp_path / "l.json", [BASE, [1, 2]]))
    assert (m["record"], m["problem"]) == ("2", "expected a JSON object, got list")
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("instruction,output\nA,B,C\n", "utf-8")
    assert "2 columns" in error_of(csv_path)["problem"]
    csv_path.write_text(",".join(BASE) + "\na,b,c,d,e,f,not-a-number\n", "utf-8")
    m = error_of(csv_path)
    assert (m["record"], m["field"]) == ("1", "preference") and "expected a number" in m["problem"]
    assert "unknown format" in error_of(csv_path, "xml")["problem"]
    assert "cannot read" in error_of(tmp_path / "nope.json")["problem"]


def test_lone_surrogate_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps([BASE, {**BASE, "output_1": "a\ud800b"}]), "utf-8")  # "\\ud800" escape
    m = error_of(path)
    assert (m["record"], m["field"]) == ("2", "output_1") and "lone surrogate" in m["problem"]


def test_model_outputs_as_csv_and_jsonl(tmp_path: Path) -> None:
    csv_path = tmp_path / "outputs.csv"
    csv_path.write_text("instruction,output,generator,dataset,temperature\nq,\"line 1\nline 2\",m,,0.7\n", "utf-8")
    parsed = read_file(csv_path)
    assert (parsed.format, parsed.kind, parsed.ignored_fields) == ("csv", "outputs", ["temperature"])
    out = parsed.outputs[0]
    assert (out.instruction, out.output, out.generator, out.dataset) == ("q", "line 1\nline 2", "m", None)
    jl = tmp_path / "outputs.jsonl"
    jl.write_text(json.dumps({"instruction": "q", "output": 5, "generator": "m"}) + "\n", "utf-8")
    m = error_of(jl)
    assert (m["record"], m["field"]) == ("1", "output") and m["problem"] == "expected a string, got int 5"


def test_json_lines_named_json(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text(json.dumps(BASE) + "\n" + json.dumps({**BASE, "generator_2": "b"}) + "\n", "utf-8")
    parsed = read_file(path)
    assert (parsed.format, parsed.n_records) == ("jsonl", 2)
