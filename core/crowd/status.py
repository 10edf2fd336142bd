"""Where a round stands: progress per annotator, items below K, open flags; reissue and exclusion."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.round import PlanItem, RoundError, round_row
from tiebreak.core.labelling.queue import is_swapped
from tiebreak.core.store import Store, utcnow

__all__ = ["RoundStatus", "round_status", "round_names", "load_round", "exclude_worker", "reissue"]


@dataclass
class RoundData:
    """The round's rows the figures are computed from (one read)."""

    round: dict[str, Any]
    workers: dict[int, dict[str, Any]]  # annotator id -> name, excluded_at
    items: dict[str, dict[str, Any]]  # item_key -> kind, comparison_id, expected, source_key
    assigned: dict[int, set[str]]  # annotator id -> item keys
    winners: dict[tuple[int, str], dict[str, Any]]  # (annotator id, item_key) -> live label event
    last_merged: dict[int, str | None]


def round_names(store: Store) -> list[str]:
    """Names of all rounds, oldest first."""
    return [r[0] for r in store.conn.execute("SELECT name FROM crowd_rounds ORDER BY id")]


def load_round(store: Store, name: str) -> RoundData:
    """Read a round (workers, items, assignments, winning labels) in one snapshot."""
    conn = store.conn
    rnd = round_row(store, name)
    rid = rnd["id"]
    workers = {r[0]: {"name": r[1], "excluded_at": r[2]} for r in conn.execute(
        "SELECT w.annotator_id, a.name, w.excluded_at FROM crowd_workers w JOIN annotators a ON a.id = w.annotator_id"
        " WHERE w.round_id = ? ORDER BY a.name", (rid,))}  # fmt: skip
    items: dict[str, dict[str, Any]] = {}
    by_cid: dict[int, str] = {}
    for key, kind, cid, expected in conn.execute(
        "SELECT item_key, kind, comparison_id, expected FROM crowd_items WHERE round_id = ?", (rid,)
    ):
        items[key] = {"kind": kind, "comparison_id": cid, "expected": expected, "source_key": None}
        if kind in ("item", "gold"):
            by_cid[cid] = key
    for it in items.values():
        if it["kind"] == "repeat":
            it["source_key"] = by_cid.get(it["comparison_id"])
    assigned: dict[int, set[str]] = {w: set() for w in workers}
    for aid, key in conn.execute(
        "SELECT s.annotator_id, i.item_key FROM crowd_assignments s JOIN crowd_items i ON i.id = s.item_id"
        " WHERE i.round_id = ?", (rid,)):  # fmt: skip
        assigned.setdefault(aid, set()).add(key)
    cols = ("annotator", "item_key", "uuid", "choice", "swapped", "seconds", "seq")
    winners = {(r[0], r[1]): dict(zip(cols, r, strict=True)) for r in conn.execute(
        "SELECT l.annotator_id, l.item_key, l.uuid, e.choice, e.swapped, e.seconds, e.seq FROM crowd_labels l"
        " JOIN crowd_events e ON e.uuid = l.uuid WHERE l.round_id = ?", (rid,))}  # fmt: skip
    last = dict(conn.execute(
        "SELECT annotator_id, max(last_merged_at) FROM crowd_packs WHERE round_id = ? GROUP BY annotator_id", (rid,)
    ).fetchall())  # fmt: skip
    return RoundData(rnd, workers, items, assigned, winners, last)


@dataclass
class RoundStatus:
    """Per annotator progress and the items below the target overlap."""

    name: str
    overlap: int
    annotators: list[dict[str, Any]]
    n_items: int
    below: list[dict[str, Any]] = field(default_factory=list)  # item_key, comparison_id, n_labels
    flags: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"round": self.name, "overlap": self.overlap, "n_items": self.n_items,
                "annotators": self.annotators, "n_below": len(self.below), "below": self.below,
                "flags": self.flags}  # fmt: skip


def round_status(store: Store, name: str) -> RoundStatus:
    """Assigned / done / last merged per annotator, items below K (unlabelled ones too), open flags.

    Counts come from SQL over the winning labels kept by the merge (``crowd_labels``); labels of
    excluded workers do not count towards K.
    """
    conn = store.conn
    rnd = round_row(store, name)
    rid, k_target = rnd["id"], int(rnd["overlap"])
    assigned = dict(conn.execute(_ASSIGNED_SQL, (rid,)).fetchall())
    done = dict(conn.execute(_DONE_SQL, (rid, rid)).fetchall())
    last = dict(conn.execute(
        "SELECT annotator_id, max(last_merged_at) FROM crowd_packs WHERE round_id = ? GROUP BY 1", (rid,)
    ).fetchall())  # fmt: skip
    rows = []
    for aid, name_, excluded in conn.execute(
        "SELECT w.annotator_id, a.name, w.excluded_at FROM crowd_workers w JOIN annotators a ON a.id = w.annotator_id"
        " WHERE w.round_id = ? ORDER BY a.name", (rid,),
    ):  # fmt: skip
        n, d = assigned.get(aid, 0), done.get(aid, 0)
        rows.append({"annotator": name_, "assigned": n, "done": d, "remaining": n - d,
                     "last_merged": last.get(aid), "excluded": excluded is not None})  # fmt: skip
    below = [{"item_key": k, "comparison_id": c, "n_labels": n} for k, c, n in conn.execute(_BELOW_SQL, (rid, k_target))]
    n_items = conn.execute("SELECT count(*) FROM crowd_items WHERE round_id = ? AND kind = 'item'", (rid,)).fetchone()[0]
    return RoundStatus(name, k_target, rows, n_items, below, open_flags(store, rid))


_ASSIGNED_SQL = """
    SELECT s.annotator_id, count(*) FROM crowd_items i JOIN crowd_assignments s ON s.item_id = i.id
    WHERE i.round_id = ? GROUP BY 1
"""
_DONE_SQL = """
    SELECT s.annotator_id, count(*) FROM crowd_items i JOIN crowd_assignments s ON s.item_id = i.id
    JOIN crowd_labels l ON l.round_id = ? AND l.annotator_id = s.annotator_id AND l.item_key = i.item_key
    WHERE i.round_id = ? GROUP BY 1
"""
_BELOW_SQL = """
    WITH c AS (
        SELECT item_key, count(*) AS n FROM crowd_labels WHERE round_id = ?1 AND annotator_id NOT IN
            (SELECT annotator_id FROM crowd_workers WHERE round_id = ?1 AND excluded_at IS NOT NULL)
        GROUP BY item_key
    )
    SELECT i.item_key, i.comparison_id, coalesce(c.n, 0) AS n FROM crowd_items i LEFT JOIN c ON c.item_key = i.item_key
    WHERE i.round_id = ?1 AND i.kind = 'item' AND coalesce(c.n, 0) < ?2 ORDER BY n, i.comparison_id
"""


def open_flags(store: Store, round_id: int) -> list[dict[str, Any]]:
    """Live flags raised on the round's items (by any annotator), newest first."""
    cur = store.conn.execute(
        "SELECT f.id, a.name, f.comparison_id, f.note, f.created_at FROM flags f"
        " LEFT JOIN annotators a ON a.id = f.annotator_id"
        " WHERE f.retracted_at IS NULL AND f.comparison_id IN"
        " (SELECT comparison_id FROM crowd_items WHERE round_id = ?) ORDER BY f.id DESC", (round_id,),
    )  # fmt: skip
    return [dict(zip(("flag_id", "annotator", "comparison_id", "note", "created_at"), r, strict=True)) for r in cur]


def exclude_worker(store: Store, name: str, worker: str, excluded: bool = True) -> None:
    """Mark ``worker`` removed from the round (its labels stop counting) or bring it back."""
    rid = round_row(store, name)["id"]
    with store.transaction() as tx:
        cur = tx.execute(
            "UPDATE crowd_workers SET excluded_at = ? WHERE round_id = ?"
            " AND annotator_id = (SELECT id FROM annotators WHERE name = ?)",
            (utcnow() if excluded else None, rid, worker),
        )
        if cur.rowcount == 0:
            raise RoundError(f"annotator {worker!r} is not a worker of round {name!r}")


def reissue(store: Store, name: str, to: str, out_dir: str | Path, *, from_: str | None = None) -> tuple[Path, int]:
    """A top-up pack for ``to``: the items of ``from_`` (a removed worker), else the items below K.

    Items ``to`` was already assigned are left out (nobody gets an item twice); gold items ``to``
    has not had are added. Returns the pack path and the number of ordinary items in it.
    """
    from tiebreak.core.crowd import pack as pack_mod

    d = load_round(store, name)
    names = {w["name"]: aid for aid, w in d.workers.items()}
    if from_ is not None and from_ not in names:
        raise RoundError(f"--from {from_!r} is not a worker of round {name!r} (workers: {', '.join(sorted(names))})")
    mine = d.assigned.get(names.get(to, -1), set())
    if from_ is not None:
        keys = [k for k in d.assigned[names[from_]] if d.items[k]["kind"] == "item"]
    else:
        keys = [r["item_key"] for r in round_status(store, name).below]
    keys = sorted(k for k in keys if k not in mine)
    if not keys:
        raise RoundError(f"nothing to reissue to {to!r} in round {name!r}" + (f" from {from_!r}" if from_ else ""))
    seed = int(d.round["seed"])
    gold = [k for k, it in d.items.items() if it["kind"] == "gold" and k not in mine]
    plan = [PlanItem(d.items[k]["comparison_id"], k, d.items[k]["kind"], is_swapped(d.items[k]["comparison_id"], to, seed))
            for k in keys + gold]  # fmt: skip
    random.Random(f"{seed}:{to}:{len(mine)}").shuffle(plan)
    number = 1 + store.conn.execute(
        "SELECT count(*) FROM crowd_packs p JOIN annotators a ON a.id = p.annotator_id WHERE p.round_id = ? AND a.name = ?",
        (d.round["id"], to),
    ).fetchone()[0]  # fmt: skip
    path = Path(out_dir) / pack_mod.pack_name(name, to, number)
    if path.exists():
        raise RoundError(f"pack file already exists: {path}")
    with store.transaction() as tx:
        aid = tx.annotator_id(to, "human", group=d.round["group_name"], member=to)
        tx.execute("INSERT OR IGNORE INTO crowd_workers (round_id, annotator_id) VALUES (?, ?)", (d.round["id"], aid))
        ids = dict(store.conn.execute("SELECT item_key, id FROM crowd_items WHERE round_id = ?", (d.round["id"],)))
        pack_mod.issue_pack(tx, d.round["id"], to, plan, ids, path)
    return path, len(keys)
