"""kill -9 loop over the labelling session: no acknowledged label is lost, the file stays sound."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core.test_store_aggregates import assert_aggregate_exact
from tests.support.judge_data import add_comparisons
from tiebreak.core.store import Store

KILLS = int(os.environ.get("TIEBREAK_TORTURE_KILLS", "50"))
ROOT = Path(__file__).resolve().parents[2]


def _child(db: Path, k: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.torture._label_child", str(db), f"worker{k % 12}", str(k)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _acks_until_killed(proc: subprocess.Popen[str], rng: random.Random) -> list[str]:
    """Read acknowledgements for a random number of them, then kill -9 mid-stream."""
    want, lines = rng.randint(1, 25), []
    assert proc.stdout is not None
    while len(lines) < want:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0, 0.02))  # sometimes in the middle of the next transaction
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    lines += [x for x in out.splitlines() if x.startswith("ACK")]  # acknowledged before death
    assert "Traceback" not in err, err
    return [x for x in lines if x.startswith("ACK")]


@pytest.mark.slow
def test_kill_minus_nine_loses_no_acknowledged_label(tmp_path):
    db = tmp_path / "kill.sqlite"
    store = Store(db, create=True)
    add_comparisons(store, 200)
    store.close()
    rng, recorded, undone = random.Random(20261201), set(), set()
    for k in range(KILLS):
        for ack in _acks_until_killed(_child(db, k), rng):
            _, op, ident = ack.split()
            (recorded if op == "rec" else undone).add(int(ident))
    check = Store(db)
    assert check.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = dict(check.conn.execute("SELECT id, retracted_at IS NOT NULL FROM annotations"))
    lost = [i for i in recorded if i not in rows]
    assert not lost, f"{len(lost)} acknowledged labels lost"
    assert all(rows[i] for i in undone), "an acknowledged undo was lost"
    assert_aggregate_exact(check)  # the trigger-kept sums equal a recount after every crash
    assert len(recorded) > KILLS  # the loop really labelled
    check.close()
