"""A whole crowd round: 6 simulated annotators on their own pack files, 10 gold items, merge, revise,
exclude, status, flags, quality, agreement and the cross-annotation export read by AlpacaEval."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from tiebreak.core.cli import main as cli_main
from tiebreak.core.crowd.merge import merge_files
from tiebreak.core.crowd.pack import open_pack_session
from tiebreak.core.crowd.quality import round_quality
from tiebreak.core.crowd.round import create_round, item_key
from tiebreak.core.crowd.status import exclude_worker, reissue, round_status
from tiebreak.core.labelling.session import ActiveClock
from tiebreak.core.sample import open_database

JUDGE = "weighted_alpaca_eval_gpt4_turbo"
CAREFUL = ["ann", "ben", "cho", "dev"]
CLICKER, FAST = "rex", "zed"
WORKERS = [*CAREFUL, CLICKER, FAST]


class Time:
    """A fake monotonic clock the simulated annotators advance."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def gold_file(path: Path) -> Path:
    """10 known-answer pairs with an obvious answer (expected preference given)."""
    rows = []
    for n in range(10):
        good, bad = f"The capital of country {n} is City {n}.", f"I don't know {n}."
        first_good = n % 2 == 0
        rows.append({"instruction": f"Gold question {n}: name the capital of country {n}.",
                     "output_1": good if first_good else bad, "output_2": bad if first_good else good,
                     "generator_1": "gold_a", "generator_2": "gold_b",
                     "preference": 1 if first_good else 2})  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def truth_table(store, gold: Path) -> dict[str, float]:
    """Canonical answer per shown content key: the judge's verdict, the gold answer, mirrored, tie."""
    frame = store.annotations_frame(groups=[JUDGE])
    truth = {}
    for r in frame.itertuples():
        p = 1.0 if r.preference < 1.5 else (2.0 if r.preference > 1.5 else 1.5)
        truth[item_key(r.instruction, r.output_1, r.output_2)] = p
        truth[item_key(r.instruction, r.output_2, r.output_1)] = 3.0 - p
        truth[item_key(r.instruction, r.output_1, r.output_1)] = 1.5
    for line in gold.read_text().splitlines():
        g = json.loads(line)
        truth[item_key(g["instruction"], g["output_1"], g["output_2"])] = float(g["preference"])
    return truth


def shown_choice(p: float, swapped: bool) -> str:
    """The key a labeller presses for canonical answer ``p`` when output_2 is on the left if swapped."""
    if p == 1.5:
        return "tie_good"
    first_wins = p == 1.0
    return "left" if first_wins != swapped else "right"


def label_pack(path: Path, truth: dict[str, float], style: str, rng: random.Random, *, keep_open: bool = False):
    """Work through a pack with the session API the app uses (record, skip, flag, undo, redo)."""
    now = Time()
    store, session, info = open_pack_session(path, clock=ActiveClock(60, now=now))
    n, changes = 0, []
    while (shown := session.current()) is not None:
        p = session.shown_pair_truth = truth[item_key(shown.pair.instruction, shown.pair.output_1, shown.pair.output_2)]
        if style == "careful":
            now.t += rng.uniform(12, 40)
            choice = shown_choice(p, shown.swapped) if rng.random() < 0.95 else rng.choice(["left", "right"])
        elif style == "random":
            now.t += rng.uniform(6, 20)
            choice = rng.choice(["left", "right", "tie_good"])
        else:  # fast and left-biased
            now.t += rng.uniform(1, 3)
            choice = "left" if rng.random() < 0.85 else shown_choice(p, shown.swapped)
        if style == "careful" and n == 2:
            session.flag("both outputs are cut off")
        if style == "careful" and n == 4 and shown.position == 5:
            session.skip()  # deferred to the end, answered later
            n += 1
            continue
        change = session.record(choice)
        if style == "careful" and n == 6:  # undo and redo: the label survives with its history
            session.redo(session.undo(change))
        changes.append(change)
        n += 1
    if keep_open:
        return store, session, changes
    session.close()
    store.close()
    return None


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("crowd")


def test_whole_round(round_dir: Path) -> None:
    rng = random.Random(7)
    coord = open_database(round_dir / "coordinator.sqlite", create=True, sample=True)
    gold = gold_file(round_dir / "gold.jsonl")
    made = create_round(coord, "r1", WORKERS, 4, round_dir / "packs", items="reference=gpt4_1106_preview,limit=100", gold_file=gold)
    assert made.n_items == 100 and made.n_gold == 10
    loads = sorted(made.loads.values())
    assert loads[-1] - loads[0] <= 1 and sum(loads) == 400
    truth = truth_table(coord, gold)

    # -- every annotator labels on their own pack file -----------------------------------------
    styles = {**{w: "careful" for w in CAREFUL}, CLICKER: "random", FAST: "fast"}
    for w in WORKERS[1:]:
        label_pack(made.packs[w], truth, styles[w], rng)
    ann = label_pack(made.packs["ann"], truth, "careful", rng, keep_open=True)
    assert ann is not None
    ann_store, ann_session, ann_changes = ann
    ann_store.conn.commit()

    # -- merge, and merge again ----------------------------------------------------------------
    packs = [made.packs[w] for w in WORKERS]
    bad = round_dir / "not-a-pack.tiebreak"
    bad.write_text("hello")
    report = merge_files(coord, [bad, *packs])
    assert [f.ok for f in report.files] == [False] + [True] * 6
    assert "not-a-pack" in report.files[0].message
    n_labels = coord.counts()["annotations"]
    events = coord.conn.execute("SELECT count(*) FROM crowd_events").fetchone()[0]
    again = merge_files(coord, packs)
    assert all(f.ok and f.n_new == 0 for f in again.files)
    assert coord.counts()["annotations"] == n_labels
    assert coord.conn.execute("SELECT count(*) FROM crowd_events").fetchone()[0] == events

    # -- revise one label: a later event wins, the old one stays retracted ----------------------
    last = ann_changes[-1]
    ann_session.undo(last)
    revised = "right" if last.choice.value != "right" else "left"
    ann_session.record(revised)
    ann_session.close()
    ann_store.close()
    third = merge_files(coord, [made.packs["ann"]])
    assert third.files[0].ok and third.files[0].n_new >= 3 and third.files[0].n_changed == 2
    hist = coord.conn.execute(
        "SELECT raw_choice, retracted_at IS NULL FROM annotations a JOIN annotators an ON an.id = a.annotator_id"
        " WHERE an.name = 'ann' AND a.comparison_id = ? ORDER BY a.id", (_coord_cid(coord, last),),
    ).fetchall()  # fmt: skip
    assert hist == [(last.choice.value, 0), (revised, 1)]

    # -- status and flags ----------------------------------------------------------------------
    status = round_status(coord, "r1")
    done = {a["annotator"]: (a["done"], a["assigned"]) for a in status.annotators}
    assert all(d == a for d, a in done.values())
    assert status.below == []
    assert len(status.flags) == 4 and {f["note"] for f in status.flags} == {"both outputs are cut off"}

    # -- quality: the clicker and the fast left-biased worker are flagged ------------------------
    q = round_quality(coord, "r1").set_index("annotator")
    assert q.loc[CLICKER, "status"] == "FLAGGED"
    assert q.loc[FAST, "status"] == "FLAGGED" and "position bias" in q.loc[FAST, "reasons"]
    assert "too fast" in q.loc[FAST, "reasons"]
    for w in CAREFUL:
        assert q.loc[w, "status"] == "ok", q.loc[w, "reasons"]
        assert q.loc[w, "gold_accuracy"] >= 0.75 and q.loc[w, "gold_n"] >= 10
        assert q.loc[w, "agreement"] > q.loc[CLICKER, "agreement"]
    assert q.loc[FAST, "left_share"] > 0.8 and q.loc["ann", "repeat_n"] == 3

    # -- exclude the random clicker: its items fall below K, a top-up pack carries them -----------
    exclude_worker(coord, "r1", CLICKER)
    status = round_status(coord, "r1")
    assert len(status.below) == made.loads[CLICKER]
    path, n = reissue(coord, "r1", "yan", round_dir / "packs", from_=CLICKER)
    assert n == made.loads[CLICKER] and path.exists()
    q2 = round_quality(coord, "r1").set_index("annotator")
    assert bool(q2.loc[CLICKER, "excluded"]) and q2.loc["yan", "status"] == "not enough overlap"
    assert pd.isna(q2.loc["yan", "agreement"])

    # -- agreement and the export honour --exclude; AlpacaEval's Analyzer reads the export --------
    db = str(round_dir / "coordinator.sqlite")
    coord.close()
    _agreement_and_export(db, round_dir)
    _commands_honour_exclusion(db)


def _coord_cid(store, change) -> int:
    p = change.shown.pair
    return store.conn.execute(
        "SELECT comparison_id FROM crowd_items WHERE item_key = ?", (item_key(p.instruction, p.output_1, p.output_2),)
    ).fetchone()[0]


def _agreement_and_export(db: str, round_dir: Path) -> None:
    from alpaca_eval import analyze

    out = round_dir / "cross.json"
    assert cli_main(["export", "--db", db, "--format", "cross-annotations", "-o", str(out), "--annotator", "humans",
                     "--exclude", CLICKER]) == 0  # fmt: skip
    rows = json.loads(out.read_text())
    assert rows and CLICKER not in {r["annotator_index"] for r in rows}
    df = pd.DataFrame(rows)
    an = analyze.Analyzer(gold_crossannotations=df, gold_annotations=None, n_annotators=3, seed=0)
    assert len(an.df_gold_crossannotations) > 0
    variance = an.estimate_variance(an.df_gold_crossannotations)
    assert 0 <= variance < 0.5


def _run_json(argv: list[str]) -> dict | list:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert cli_main(argv) == 0
    return json.loads(buf.getvalue())


def _commands_honour_exclusion(db: str) -> None:
    base = ["--db", db, "--format", "json"]
    agree = _run_json(["agreement", "--gold", "humans", "--judge", JUDGE, "--per-item", "3", *base])
    notes = " ".join(agree["notes"])
    # rex was removed from the round, so it is left out even without --exclude
    assert "excluded worker(s) rex" in notes and "more than 3 labels of humans" in notes
    no_gold = _run_json(["agreement", "--gold", "humans", "--judge", JUDGE, "--per-item", "3", "--exclude-gold",
                         "--exclude", FAST, *base])  # fmt: skip
    assert "on 10 gold item(s) left out" in " ".join(no_gold["notes"])
    assert "excluded worker(s) rex, zed" in " ".join(no_gold["notes"])
    human = {r["annotator"]: r for r in agree["rows"]}["humans"]
    human_ng = {r["annotator"]: r for r in no_gold["rows"]}["humans"]
    assert human["Human agreement"] != human_ng["Human agreement"]
    people = _run_json(["annotators", "--group", "humans", "--exclude", FAST, *base])
    assert {a["annotator"] for a in people["annotators"]} == set(CAREFUL)
    board = _run_json(["leaderboard", "--annotator", "humans", "--resamples", "0", "--exclude", FAST, *base])
    full_n = sum(r["n_total"] for r in _run_json(["leaderboard", "--annotator", "humans", "--resamples", "0", *base]))
    assert 0 < sum(r["n_total"] for r in board) < full_n
