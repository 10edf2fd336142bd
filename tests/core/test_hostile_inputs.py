"""Hostile input files: each is refused with file, record and field, and the database file is unchanged."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from tiebreak.core.formats import FormatError, open_records, source
from tiebreak.core.formats.importer import import_files
from tiebreak.core.store import Store

BASE = {"instruction": "Say hi", "output_1": "hi", "output_2": "hello", "generator_1": "ref",
        "generator_2": "model", "annotator": "judge_x", "preference": 1.75}  # fmt: skip
MESSAGE = re.compile(r"^(?P<file>.+): record (?P<record>\d+): field (?P<field>\S+): (?P<problem>.+)$", re.S)
HEADER = ",".join(BASE)


def db_bytes(path: Path) -> str:
    """SHA-256 over the database file and its -wal / -shm (whatever exists)."""
    h = hashlib.sha256()
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        h.update(suffix.encode() + (p.read_bytes() if p.exists() else b"<none>"))
    return h.hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A database file holding one earlier import, closed."""
    path = tmp_path / "db.sqlite"
    store = Store(path, create=True)
    prior = tmp_path / "prior.json"
    prior.write_text(json.dumps([BASE, {**BASE, "generator_2": "other"}]), "utf-8")
    import_files(store, [prior])
    store.close()
    return path


def refused(db: Path, path: Path, record: int, field: str, problem: str) -> FormatError:
    """Import ``path`` into ``db`` and check the error and that the file is byte-for-byte unchanged."""
    before = db_bytes(db)
    store = Store(db, create=True)
    try:
        with pytest.raises(FormatError) as info:
            import_files(store, [path])
    finally:
        store.close()
    m = MESSAGE.match(str(info.value))
    assert m, str(info.value)
    assert (m["file"], int(m["record"]), m["field"]) == (str(path), record, field), str(info.value)
    assert re.search(problem, m["problem"]), m["problem"]
    assert db_bytes(db) == before
    return info.value


def write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_deep_nesting_json_and_jsonl(db: Path, tmp_path: Path) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    text = json.dumps([BASE, {**BASE, "output_2": "X"}]).replace('"X"', deep)
    refused(db, write(tmp_path / "deep.json", text), 2, "-", "nested too deeply")
    lines = json.dumps(BASE) + "\n" + json.dumps({**BASE, "extra": "X"}).replace('"X"', deep) + "\n"
    refused(db, write(tmp_path / "deep.jsonl", lines), 2, "-", "nested too deeply")


def test_huge_integers(db: Path, tmp_path: Path) -> None:
    digits = "9" * 5000
    text = json.dumps([BASE, {**BASE, "preference": 0}]).replace('"preference": 0}]', f'"preference": {digits}}}]')
    refused(db, write(tmp_path / "digits.json", text), 2, "-", "digits")
    too_big = json.dumps([{**BASE, "price_per_example": 10**400}])
    refused(db, write(tmp_path / "float.json", too_big), 1, "price_per_example", "too large")


@pytest.mark.parametrize("index", [2**64, 2**63, -(2**63) - 1, 1e30])
def test_index_beyond_64_bits_json(db: Path, tmp_path: Path, index: int | float) -> None:
    path = write(tmp_path / "idx.json", json.dumps([BASE, {**BASE, "annotator_index": index}]))
    refused(db, path, 2, "annotator_index", "beyond 64 bits")


def test_index_beyond_64_bits_csv(db: Path, tmp_path: Path) -> None:
    row = "Say hi,hi,hello,ref,model,judge_x,1.5,"
    path = write(tmp_path / "idx.csv", f"{HEADER},annotator_index\n{row}1\n{row}{'1' * 5000}\n")
    refused(db, path, 2, "annotator_index", "beyond 64 bits")


def test_corrupt_and_truncated_gzip(db: Path, tmp_path: Path) -> None:
    packed = gzip.compress(json.dumps([BASE] * 200).encode() * 50)
    flipped = packed[:40] + bytes(b ^ 0xFF for b in packed[40:80]) + packed[80:]
    refused(db, write(tmp_path / "flipped.json.gz", flipped), 1, "-", "corrupt gzip")
    refused(db, write(tmp_path / "cut.json.gz", packed[: len(packed) // 2]), 1, "-", "corrupt gzip")
    refused(db, write(tmp_path / "magic.json", b"\x1f\x8bnot gzip at all"), 1, "-", "corrupt gzip")


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n\r\n", b"\xef\xbb\xbf" + HEADER.encode() + b"\n"])
def test_bom_only_csv(db: Path, tmp_path: Path, content: bytes) -> None:
    refused(db, write(tmp_path / "bom.csv", content), 1, "-", "no records|empty")


def test_named_pipe_is_refused_without_blocking(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # nobody writes: opening it for reading would block forever
    refused(db, fifo, 1, "-", "not a regular file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused(db: Path) -> None:
    refused(db, Path("/dev/zero"), 1, "-", "not a regular file")


def test_directory_is_refused(db: Path, tmp_path: Path) -> None:
    (tmp_path / "folder.json").mkdir()
    refused(db, tmp_path / "folder.json", 1, "-", "not a regular file")


def test_gzip_bomb_stops_at_the_limit(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "GZIP_MIN_LIMIT", 1 << 20)
    bomb = gzip.compress(b"[" + b" " * (40 << 20) + b"]", compresslevel=9)
    assert len(bomb) * source.GZIP_RATIO < 40 << 20  # expands beyond the ratio limit
    refused(db, write(tmp_path / "bomb.json.gz", bomb), 1, "-", "decompression bomb")


@pytest.mark.parametrize(
    ("field", "literal", "problem"),
    [
        ("price_per_example", "Infinity", "not a finite number"),
        ("price_per_example", "-Infinity", "not a finite number"),
        ("time_per_example", "Infinity", "not a finite number"),
        ("price_per_example", "-0.01", "negative"),
        ("time_per_example", "-3", "negative"),
        ("preference", "Infinity", "not a finite number"),
        ("preference", "-Infinity", "not a finite number"),
    ],
)
def test_infinite_and_negative_numbers_json(db: Path, tmp_path: Path, field: str, literal: str, problem: str) -> None:
    text = json.dumps([BASE, {**BASE, field: 0.5}]).replace(f'"{field}": 0.5', f'"{field}": {literal}')
    refused(db, write(tmp_path / "num.json", text), 2, field, problem)


@pytest.mark.parametrize(("value", "problem"), [("inf", "finite"), ("-1e999", "finite"), ("-2", "negative")])
def test_infinite_and_negative_numbers_csv(db: Path, tmp_path: Path, value: str, problem: str) -> None:
    row = "Say hi,hi,hello,ref,model,judge_x,1.5"
    path = write(tmp_path / "num.csv", f"{HEADER},time_per_example\n{row},1\n{row},{value}\n")
    refused(db, path, 2, "time_per_example", problem)


@pytest.mark.parametrize("field", ["generator_1", "generator_2", "annotator", "instruction"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_names_and_required_cells(db: Path, tmp_path: Path, field: str, blank: str) -> None:
    path = write(tmp_path / "blank.json", json.dumps([BASE, BASE, {**BASE, field: blank}]))
    refused(db, path, 3, field, "empty or only blanks")


def test_blank_cells_in_csv_and_outputs(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "blank.csv", f"{HEADER}\nSay hi,hi,hello,ref,model,judge_x,1.5\nSay hi,hi,hello,ref, ,judge_x,1\n")
    refused(db, path, 2, "generator_2", "empty or only blanks")
    out = write(tmp_path / "out.json", json.dumps([{"instruction": "q", "output": "a", "generator": " "}]))
    refused(db, out, 1, "generator", "empty or only blanks")
    idx = write(tmp_path / "idx.json", json.dumps([{**BASE, "annotator": "humans", "annotator_index": "  "}]))
    refused(db, idx, 1, "annotator_index", "empty or only blanks")


@pytest.mark.parametrize("cut", ["},", "}", "}, ", "},\n  "])
def test_json_cut_at_a_record_boundary_is_detected(db: Path, tmp_path: Path, cut: str) -> None:
    text = json.dumps([BASE, {**BASE, "generator_2": "b"}, {**BASE, "generator_2": "c"}], indent=2)
    second_end = text.index('"c"')
    head = text[: text.rindex("}", 0, second_end) + 1] + cut[1:]
    refused(db, write(tmp_path / "cut.json", head), 3 if "," in cut else 3, "-", "truncated")


def test_jsonl_and_csv_cut_at_a_line_report_their_row_count(tmp_path: Path) -> None:
    lines = "".join(json.dumps({**BASE, "generator_2": f"m{i}"}) + "\n" for i in range(5))
    store = Store(tmp_path / "db.sqlite", create=True)
    report = import_files(store, [write(tmp_path / "a.jsonl", lines)])
    assert "5 records" in report.files[0].summary() and not report.files[0].notes
    no_end = lines.replace("m4", "m5").rstrip("\n")
    report = import_files(store, [write(tmp_path / "b.jsonl", no_end)])
    assert "5 records" in report.files[0].summary()
    assert "no line end" in report.files[0].summary()  # a cut mid-record is a parse error instead
    store.close()


def test_nul_bytes_and_stray_quotes_in_csv(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "nul.csv", f"{HEADER}\nSay hi,hi,hello,ref,model,judge_x,1.5\n\"unclosed,x\x00\n")
    err = refused(db, path, 2, "-", "")
    assert isinstance(err, FormatError)


def test_detection_reads_nothing_from_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    with pytest.raises(FormatError, match="not a regular file"):
        open_records(fifo)


def test_csv_extra_cell_with_a_huge_integer(db: Path, tmp_path: Path) -> None:
    """Found by the torture grid: the CSV ``extra`` JSON cell is parsed too."""
    row = "Say hi,hi,hello,ref,model,judge_x,1.5"
    path = write(tmp_path / "extra.csv", f"{HEADER},extra\n{row},{{}}\n{row},{'9' * 5000}\n")
    refused(db, path, 2, "extra", "invalid JSON")
