"""``tiebreak annotators`` on a real SQLite file with a simulated crowd."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_crowd import simulate_crowd
from tiebreak.core.cli import main
from tiebreak.core.crowd.quality import TOO_FEW_NOTE
from tiebreak.core.metrics.agreement import TIE_RULE
from tiebreak.core.store import Store


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "crowd.sqlite"
    store = Store(path, create=True)
    simulate_crowd(store, n_items=30, skip=0.3, seed=3)
    store.close()
    return str(path)


def test_json_rows_flags_and_under_annotated(db, capsys):
    assert main(["annotators", "--db", db, "--format", "json", "--overlap", "4"]) == 0
    out = json.loads(capsys.readouterr().out)
    names = [r["annotator"] for r in out["annotators"]]
    assert names == ["humans/0", "humans/1", "humans/2", "humans/3"]
    fast = {r["annotator"]: r["too_fast"] for r in out["annotators"]}
    assert fast == {"humans/0": False, "humans/1": False, "humans/2": False, "humans/3": True}
    assert out["overlap"] == 4 and out["too_fast_seconds"] == 5.0 and out["n_items"] == 30
    # with 30% of labels skipped, some items have fewer than 4 labels; they are all listed
    store = Store(db, create=True)
    frame = store.annotations_frame(with_texts=False)
    store.close()
    counts = frame.groupby("comparison_id").size()
    assert sorted(out["under_annotated"]) == sorted(int(c) for c in counts[counts < 4].index)
    assert out["under_annotated"] and out["tie_rule"] == TIE_RULE
    assert all(0 <= r["agreement"] <= 1 for r in out["annotators"])


def test_table_and_threshold(db, capsys):
    assert main(["annotators", "--db", db, "--too-fast", "10"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["annotator", "labels", "shared"]
    assert "too fast: median 8.0 s < 10 s" in out and "too fast: median 2.0 s < 10 s" in out
    assert "under-annotated items (< 3 labels):" in out
    assert "note: 2 annotator(s) too fast" in out


def test_csv_and_too_few(tmp_path, capsys):
    path = tmp_path / "few.sqlite"
    store = Store(path, create=True)
    simulate_crowd(store, n_items=6)
    store.close()
    assert main(["annotators", "--db", str(path), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    header = captured.out.splitlines()[0]
    assert header.startswith("annotator,n_labels,n_shared,tie_share,median_seconds,too_fast,too_few")
    assert captured.out.count(TOO_FEW_NOTE) == 4
    assert "note: 4 annotator(s) with fewer than 10 shared items" in captured.err


def test_user_errors(db, capsys):
    assert main(["annotators", "--db", db, "--group", "crowd"]) == 2
    assert "unknown annotator group 'crowd' (known: humans)" in capsys.readouterr().err
    assert main(["annotators", "--db", db, "--overlap", "0"]) == 2
    assert "--overlap must be at least 1" in capsys.readouterr().err
    assert main(["annotators", "--db", db, "--too-fast", "nan"]) == 2
    assert "--too-fast must be" in capsys.readouterr().err
