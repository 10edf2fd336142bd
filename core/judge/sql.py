"""SQL of the LLM judge: runs, the verdict cache (by shown texts) and recorded failures."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tiebreak.core.store import Store, Transaction, utcnow

__all__ = [
    "CacheEntry", "CacheKey", "Candidate", "candidates", "create_run", "finish_run",
    "set_run_batch", "open_batch_run", "cache_entries", "cache_put", "judged", "add_failure",
    "failure_reasons", "run_row", "reap_dead_runs", "set_run_status", "run_owner",
    "judge_versions", "adopt_annotator",
]  # fmt: skip

#: (instruction text id, first shown text id, second shown text id, config hash, seed)
CacheKey = tuple[int, int, int, str, int]


@dataclass(frozen=True)
class CacheEntry:
    """One cached judge answer, in the shown order."""

    raw_preference: float
    raw_completion: str | None
    rationale: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    price: float | None
    seconds: float | None


@dataclass(frozen=True)
class Candidate:
    """A comparison to judge, with its texts and their ids (canonical order)."""

    comparison_id: int
    instruction_text_id: int
    output_1_text_id: int
    output_2_text_id: int
    instruction: str
    output_1: str
    output_2: str
    generator_1: str
    generator_2: str


def candidates(
    store: Store,
    *,
    reference: str | None = None,
    generators: list[str] | None = None,
    limit: int | None = None,
    labelled_by: str | None = None,
) -> list[Candidate]:
    """Comparisons whose output_1 is by ``reference`` and output_2 by one of ``generators``.

    Parameters
    ----------
    store : Store
        The database.
    reference, generators : optional
        Filters on generator_1 and generator_2 (None = all).
    limit : int, optional
        At most this many comparisons, by comparison id.
    labelled_by : str, optional
        Only comparisons with a live label of this annotator group (e.g. the humans' gold).

    Returns
    -------
    list of Candidate
    """
    where = ["1=1"]
    args: list[str | int] = []
    if reference:
        where.append("o1.generator = ?")
        args.append(reference)
    if generators:
        where.append(f"o2.generator IN ({', '.join('?' * len(generators))})")
        args.extend(generators)
    if labelled_by:
        where.append("c.id IN (SELECT a.comparison_id FROM annotations a JOIN annotators an ON "
                     "an.id = a.annotator_id WHERE an.group_name = ? AND a.retracted_at IS NULL)")
        args.append(labelled_by)
    sql = f"""
        SELECT c.id, i.text_id, o1.text_id, o2.text_id, ti.body, t1.body, t2.body,
               o1.generator, o2.generator
        FROM comparisons c
        JOIN instructions i ON i.id = c.instruction_id JOIN texts ti ON ti.id = i.text_id
        JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
        JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
        WHERE {' AND '.join(where)} ORDER BY c.id
    """
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [Candidate(*row) for row in store.conn.execute(sql, args)]


def create_run(
    tx: Transaction,
    *,
    annotator_id: int,
    config_name: str,
    config_hash: str,
    model: str,
    base_url: str | None,
    mode: str,
    options: dict[str, Any],
) -> int:
    """Insert a judge run (status 'running', owned by this process) and return its id."""
    options = {**options, "owner": run_owner()}
    cur = tx.execute(
        "INSERT INTO judge_runs (annotator_id, config_name, config_hash, model, base_url, mode,"
        " status, options, started_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
        (annotator_id, config_name, config_hash, model, base_url, mode,
         json.dumps(options, sort_keys=True), utcnow()),
    )  # fmt: skip
    return int(cur.lastrowid)  # type: ignore[arg-type]


def finish_run(tx: Transaction, run_id: int, status: str, summary: dict[str, Any]) -> None:
    """Close a run with its final status ('done', 'cancelled', 'failed') and summary."""
    tx.execute(
        "UPDATE judge_runs SET status = ?, summary = ?, ended_at = ? WHERE id = ?",
        (status, json.dumps(summary, sort_keys=True), utcnow(), run_id),
    )


def set_run_batch(tx: Transaction, run_id: int, batch_id: str, status: str) -> None:
    """Remember the provider's batch id of a run (so that it can be resumed)."""
    tx.execute(
        "UPDATE judge_runs SET batch_id = ?, status = ? WHERE id = ?", (batch_id, status, run_id)
    )


def set_run_status(tx: Transaction, run_id: int, status: str) -> None:
    """Set a run's status without closing it (e.g. 'submitting' before a batch is created)."""
    tx.execute("UPDATE judge_runs SET status = ? WHERE id = ?", (status, run_id))


def open_batch_run(store: Store, annotator_id: int, config_hash: str) -> dict[str, Any] | None:
    """The latest batch run of this judge that was submitted (or was being submitted) and not collected.

    ``status`` is 'submitted' (the batch id is known) or 'submitting' (the process may have died
    between creating the batch and saving its id: look it up by the run's intent token).
    """
    row = store.conn.execute(
        "SELECT id, batch_id, options, status FROM judge_runs WHERE annotator_id = ?"
        " AND config_hash = ? AND mode = 'batch' AND status IN ('submitted', 'submitting')"
        " ORDER BY id DESC LIMIT 1",
        (annotator_id, config_hash),
    ).fetchone()
    if row is None:
        return None
    return {"run_id": int(row[0]), "batch_id": row[1], "options": json.loads(row[2] or "{}"),
            "status": row[3]}  # fmt: skip


def run_owner() -> dict[str, Any]:
    """Who runs a judge run: this host and process (to tell a dead run from a live one)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _alive(owner: Any) -> bool:
    """Whether the process recorded in ``owner`` still runs (unknown hosts count as alive)."""
    if not isinstance(owner, dict) or "pid" not in owner:
        return False  # written before owners were recorded: nobody can still be running it
    if owner.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(owner["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def reap_dead_runs(tx: Transaction) -> list[int]:
    """Mark 'running' runs whose process is gone as 'interrupted'; return their ids.

    A run killed at any moment (kill -9, power loss) would otherwise stay 'running' for ever.
    Batch runs caught while 'submitting' are left alone: the next batch run recovers them.
    """
    rows = tx.execute("SELECT id, options FROM judge_runs WHERE status = 'running'").fetchall()
    dead = [int(i) for i, options in rows if not _alive(json.loads(options or "{}").get("owner"))]
    for run_id in dead:
        tx.execute(
            "UPDATE judge_runs SET status = 'interrupted', ended_at = ? WHERE id = ?", (utcnow(), run_id)
        )
    return dead


def run_row(store: Store, run_id: int) -> dict[str, Any]:
    """One judge run as a dict (summary decoded)."""
    cur = store.conn.execute("SELECT * FROM judge_runs WHERE id = ?", (run_id,))
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    if row is None:
        raise KeyError(f"no judge run with id {run_id}")
    out = dict(zip(names, row, strict=True))
    out["summary"] = json.loads(out["summary"]) if out["summary"] else None
    return out


def cache_entries(store: Store, config_hash: str) -> dict[CacheKey, CacheEntry]:
    """All cached answers made with this configuration hash."""
    rows = store.conn.execute(
        "SELECT instruction_text_id, first_text_id, second_text_id, config_hash, seed,"
        " raw_preference, raw_completion, rationale, prompt_tokens, completion_tokens, price,"
        " seconds FROM judge_cache WHERE config_hash = ?",
        (config_hash,),
    )
    return {(r[0], r[1], r[2], r[3], r[4]): CacheEntry(*r[5:]) for r in rows}


def cache_put(tx: Transaction, key: CacheKey, entry: CacheEntry, run_id: int | None) -> None:
    """Store (or, with --force, replace) one cached answer."""
    tx.execute(
        "INSERT OR REPLACE INTO judge_cache (instruction_text_id, first_text_id, second_text_id,"
        " config_hash, seed, raw_preference, raw_completion, rationale, prompt_tokens,"
        " completion_tokens, price, seconds, run_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*key, entry.raw_preference, entry.raw_completion, entry.rationale, entry.prompt_tokens,
         entry.completion_tokens, entry.price, entry.seconds, run_id, utcnow()),
    )  # fmt: skip


def judged(store: Store, annotator_id: int, sources: tuple[str, ...] = ("judge",)) -> dict[tuple[int, int], int]:
    """Live annotations of this annotator from ``sources``: (comparison_id, seed) -> annotation id."""
    rows = store.conn.execute(
        "SELECT comparison_id, seed, id FROM annotations WHERE annotator_id = ?"
        f" AND source IN ({', '.join('?' * len(sources))}) AND retracted_at IS NULL",
        (annotator_id, *sources),
    )
    return {(int(c), int(s)): int(i) for c, s, i in rows}


def add_failure(
    tx: Transaction, run_id: int | None, comparison_id: int, seed: int, swapped: bool,
    reason: str, detail: str | None,
) -> None:  # fmt: skip
    """Record one failed judgement (never stored as a verdict)."""
    tx.execute(
        "INSERT INTO judge_failures (run_id, comparison_id, seed, swapped, reason, detail,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (run_id, comparison_id, seed, int(swapped), reason, detail, utcnow()),
    )


def failure_reasons(store: Store, run_id: int) -> Counter[str]:
    """Count of failures per reason in one run."""
    rows = store.conn.execute(
        "SELECT reason, count(*) FROM judge_failures WHERE run_id = ? GROUP BY reason", (run_id,)
    )
    return Counter({r: int(n) for r, n in rows})


def judge_versions(store: Store, name: str) -> list[tuple[str, dict[str, Any]]]:
    """(annotator name, stored config) of every version of the judge ``name``, oldest first.

    Version 1 is the annotator ``name`` itself; later versions are ``name.v2``, ``name.v3``...
    """
    rows = store.conn.execute(
        "SELECT name, config FROM annotators WHERE kind = 'judge' AND config IS NOT NULL "
        "AND (name = ? OR name GLOB ?) ORDER BY id", (name, f"{name}.v[0-9]*"),
    ).fetchall()
    out = []
    for row_name, text in rows:
        suffix = row_name[len(name):]
        if suffix == "" or (suffix[:2] == ".v" and suffix[2:].isdigit()):
            out.append((row_name, json.loads(text)))
    return out


def adopt_annotator(tx: Transaction, annotator_id: int, config: dict[str, Any]) -> None:
    """Record ``config`` (text and hash) on a judge annotator that was imported without one."""
    text = json.dumps(config, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    tx.execute("UPDATE annotators SET config = ?, config_hash = ? WHERE id = ? AND config IS NULL",
                       (text, digest, annotator_id))  # fmt: skip
