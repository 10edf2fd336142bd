"""Streamed import: chunk boundaries change nothing, progress is reported, one transaction for all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tiebreak.core.formats import FormatError, importer
from tiebreak.core.formats.importer import import_files
from tiebreak.core.store import Store

BASE = {"instruction": "Say hi", "output_1": "hi", "output_2": "hello", "generator_1": "ref",
        "generator_2": "model", "annotator": "judge_x", "preference": 1.75}  # fmt: skip
TABLES = {
    "instructions": "SELECT t.body, i.dataset, i.ordinal FROM instructions i JOIN texts t ON t.id = i.text_id",
    "outputs": "SELECT o.generator, t.body FROM outputs o JOIN texts t ON t.id = o.text_id",
    "annotations": "SELECT c.output_1_id, c.output_2_id, a.preference, a.seed, a.extra FROM annotations a "
    "JOIN comparisons c ON c.id = a.comparison_id",
    "imports": "SELECT format, n_records, n_added FROM imports",
}


def records(n: int) -> list[dict]:
    """n annotations over n // 3 instructions; some repeat earlier ones exactly."""
    out = []
    for i in range(n):
        k = i % max(1, n // 3)
        g, s = i % 4, i % 2  # (k, g, s) repeats: the same annotation again, as a duplicate
        out.append({**BASE, "instruction": f"q{k}", "generator_2": f"m{g}", "output_2": f"a{k}-{g}",
                    "dataset": "d" if k % 2 else None, "annotator_index": s, "preference": 1 + ((k + g + s) % 5) / 4,
                    "note": k})  # fmt: skip
    return out


def content(store: Store) -> dict[str, list]:
    return {name: sorted(map(tuple, store.conn.execute(sql)), key=repr) for name, sql in TABLES.items()}


def write(path: Path, recs: list[dict]) -> Path:
    path.write_text(json.dumps(recs), "utf-8")
    return path


def test_chunk_boundaries_change_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recs = records(60)
    recs += [recs[5], recs[40]]  # exact repeats, in a later chunk than their first appearance
    src = write(tmp_path / "a.json", recs)
    whole = Store(memory=True)
    rep_whole = import_files(whole, [src])
    monkeypatch.setattr(importer, "CHUNK_RECORDS", 7)
    chunked = Store(memory=True)
    rep_chunked = import_files(chunked, [src])
    assert content(chunked) == content(whole)
    a, b = rep_whole.files[0], rep_chunked.files[0]
    assert (a.records, a.added, a.duplicates, a.new) == (b.records, b.added, b.duplicates, b.new)
    assert b.duplicates >= 2 and b.records == 62 and b.added + b.duplicates == 62


def test_conflict_across_chunks_rolls_everything_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "CHUNK_RECORDS", 5)
    store = Store(tmp_path / "db.sqlite", create=True)
    import_files(store, [write(tmp_path / "prior.json", [BASE])])
    before = content(store)
    recs = records(30) + [{**records(30)[2], "preference": 2.0 if records(30)[2]["preference"] != 2.0 else 1.0}]
    with pytest.raises(FormatError, match=r"record 31: field preference: .* earlier record of this file"):
        import_files(store, [write(tmp_path / "late.json", recs)])
    assert content(store) == before
    outs = [{"instruction": f"q{i}", "output": "a", "generator": "m"} for i in range(12)]
    outs.append({"instruction": "q1", "output": "different", "generator": "m"})
    with pytest.raises(FormatError, match=r"record 13: field output: differs from record 2"):
        import_files(store, [write(tmp_path / "o.json", outs)])
    assert content(store) == before
    store.close()


def test_progress_is_reported_per_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "CHUNK_RECORDS", 10)
    seen: list[importer.Progress] = []
    files = [write(tmp_path / "a.json", records(45)), write(tmp_path / "b.json", records(12)[:5])]
    report = import_files(Store(memory=True), files, progress=seen.append)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert [p.records for p in seen if p.file_index == 1] == [0, 10, 20, 30, 40, 45]
    assert {p.n_files for p in seen} == {2} and seen[-1].path == str(files[1])
    assert "importing" in seen[0].line() and report.records == 50


def test_imports_row_counts_the_streamed_records(tmp_path: Path) -> None:
    store = Store(memory=True)
    report = import_files(store, [write(tmp_path / "a.json", records(20))])
    assert store.conn.execute("SELECT n_records, n_added FROM imports").fetchall() == [(20, report.added)]
    assert 0 < report.added < 20  # the count is the file's records, not the rows added
