"""The bundled sample: first open creates the DB and loads it; it is a faithful, reproducible subset."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tiebreak.core.paths import sample_path
from tiebreak.core.sample import load_sample, open_database, sample_file
from tiebreak.core.store import Store
from tiebreak.data import make_sample

SAMPLE_COUNTS = {"instructions": 200, "outputs": 1400, "comparisons": 1200, "annotators": 1,
                 "annotations": 1200}  # fmt: skip


def test_open_database_creates_and_loads_once(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    store = open_database(db, create=True, sample=True)
    assert db.exists()
    assert store.counts() == SAMPLE_COUNTS
    assert store.groups() == [{"group": "weighted_alpaca_eval_gpt4_turbo", "kind": "judge", "annotations": 1200}]
    assert "example" in store.generators() and "gpt4_1106_preview" in store.generators()
    store.close()
    again = open_database(db, sample=True)  # not new: nothing loaded twice
    assert again.counts() == SAMPLE_COUNTS
    assert again.conn.execute("SELECT count(*) FROM imports").fetchone()[0] == 1
    assert load_sample(again).added == 0
    again.close()


def test_open_database_without_sample_and_in_memory(tmp_path: Path) -> None:
    empty = open_database(tmp_path / "e.sqlite", create=True)  # the sample only on request
    assert empty.counts()["comparisons"] == 0
    assert open_database(":memory:").counts()["comparisons"] == 0
    assert open_database(":memory:", sample=True).counts() == SAMPLE_COUNTS


def test_sample_rows_are_the_real_rows(alpaca_dir: Path) -> None:
    rows = json.loads(gzip.decompress(sample_file().read_bytes()))
    assert len(rows) == 1200
    claude = [r for r in rows if r["generator_2"] == "claude-2.1"]
    source = json.loads((alpaca_dir / "results/claude-2.1/weighted_alpaca_eval_gpt4_turbo/annotations.json")
                        .read_text("utf-8"))  # fmt: skip
    assert claude == source[:200]  # unchanged, every column


def test_sample_is_reproducible_and_documented(alpaca_dir: Path) -> None:
    assert make_sample.render(make_sample.build(alpaca_dir, 200)) == sample_file().read_bytes()
    note = sample_path("SOURCE.md").read_text("utf-8")
    assert "CC BY-NC 4.0" in note and "make_sample.py" in note


def test_sample_preferences_match_the_store(tmp_path: Path) -> None:
    rows = json.loads(gzip.decompress(sample_file().read_bytes()))
    store = open_database(tmp_path / "s.sqlite", create=True, sample=True)
    frame = store.annotations_frame(with_texts=False)
    assert list(frame["preference"]) == [r["preference"] for r in rows]
    assert isinstance(store, Store)
