"""A worker's changed winning labels into ``annotations`` and ``crowd_labels``, by SQL, keeping win-rate sums exact.

Used by the merge (:mod:`tiebreak.core.crowd.merge`): the winners arrive as (item key, event
uuid) pairs; their annotation rows are built by SQL from the stored events (``crowd_events``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

from tiebreak.core.crowd.gold import PREFERENCE
from tiebreak.core.store import utcnow

__all__ = ["BULK_SUMS_MIN", "write_winners"]


def write_winners(tx: Any, round_id: int, round_name: str, annotator_id: int, changed: list[tuple[str, str]],
                  items: Mapping[str, int]) -> int:  # fmt: skip
    """New annotations and crowd_labels rows for the changed winners ((item key, event uuid) pairs).

    ``items``: item key -> comparison id of the round's items and gold items; winners on checks
    (repeats, identical outputs) are not annotations. A temporary table carries the winners in
    event order (the stored events are a b-tree on the uuid: reading them in that order is
    sequential), with the ids their annotations take (ascending, above every existing id); SQL
    builds the rows from the stored events. Returns the annotations inserted.
    """
    conn = tx.conn
    base = conn.execute("SELECT coalesce(max(id), 0) FROM annotations").fetchone()[0]
    table, n_new = [], 0
    for key, uuid in sorted(changed, key=itemgetter(1)):
        cid = items.get(key)
        if cid is not None:
            n_new += 1
        table.append((key, uuid, None if cid is None else base + n_new, cid))
    tx.execute("DROP TABLE IF EXISTS temp.crowd_merge_winners")
    tx.execute("CREATE TEMP TABLE crowd_merge_winners (item_key TEXT, uuid TEXT, annotation_id INTEGER, comparison_id INTEGER)")
    tx.executemany("INSERT INTO temp.crowd_merge_winners VALUES (?, ?, ?, ?)", table)
    session_id = tx.start_session(annotator_id, "crowd", {"round": round_name, "merge": utcnow()})
    params = {"r": round_id, "a": annotator_id, "session": session_id, "round_json": json.dumps(round_name)}
    plain = _PLAIN_ID.fullmatch("".join(str(uuid) for _, uuid, _, _ in table)) is not None
    _insert_annotations(tx, _insert_annotations_sql(plain), params, base, n_new)
    tx.execute("INSERT OR REPLACE INTO crowd_labels (round_id, annotator_id, item_key, uuid, annotation_id)"
               " SELECT :r, :a, item_key, uuid, annotation_id FROM temp.crowd_merge_winners ORDER BY item_key", params)  # fmt: skip
    tx.execute("DROP TABLE temp.crowd_merge_winners")
    return n_new


def _pref_case(swapped: str) -> str:
    """PREFERENCE as an SQL CASE on ``w.choice`` and ``swapped`` (NULL for answers without one)."""
    return "CASE " + " ".join(f"WHEN w.choice = {_sql_literal(c)} AND {swapped} = {int(sw)} THEN {p!r}"
                              for (c, sw), p in PREFERENCE.items() if p is not None) + " END"  # fmt: skip


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: Event ids that JSON writes as they are between quotes (a random 128-bit id in hex, or a uuid).
_PLAIN_ID = re.compile(r"[0-9a-f-]*")


def _insert_annotations_sql(plain_ids: bool) -> str:
    """A winner's annotation row: canonical preference from the shown choice and side (PREFERENCE),
    extra = {"crowd_event": uuid, "round": name} written as json.dumps(sort_keys=True) writes it.

    ``plain_ids``: every event id is :data:`_PLAIN_ID` (quoted by SQL; otherwise by json.dumps).
    """
    uuid = "'\"' || w.uuid || '\"'" if plain_ids else "tiebreak_json_dumps(w.uuid)"
    return f"""
    WITH w AS (SELECT w.rowid AS n, w.annotation_id, w.comparison_id, e.uuid, e.choice, e.shown_at, e.submitted_at,
                 e.seconds, nullif(e.note, '') AS note, e.at,
                 CASE WHEN coalesce(e.swapped, 0) IN (0, '') THEN 0 ELSE 1 END AS swapped
          FROM temp.crowd_merge_winners w JOIN crowd_events e ON e.uuid = w.uuid
          WHERE w.annotation_id IS NOT NULL)
    INSERT INTO annotations (id, comparison_id, annotator_id, preference, raw_choice, raw_preference,
        swapped, rationale, seconds, session_id, source, extra, shown_at, submitted_at, created_at)
    SELECT w.annotation_id, w.comparison_id, :a, {_pref_case("w.swapped")}, w.choice, {_pref_case("0")}, w.swapped,
        w.note, w.seconds, :session, 'label', '{{"crowd_event": ' || {uuid} || ', "round": ' || :round_json || '}}',
        w.shown_at, w.submitted_at, w.at
    FROM w ORDER BY w.n"""


#: From this many new annotations on, the win-rate sums are added once per key instead of per row.
BULK_SUMS_MIN = 500
_SUM_COLS = ("n_total", "n_dropped", "sum_x_fixed", "sum_x_rest", "sum_x2_fixed", "sum_x2_rest",
             "n_wins", "n_wins_base", "n_draws")  # fmt: skip


def _bulk_sums_sql() -> str:
    """Per (candidate, reference, group), the new rows ``id BETWEEN ? AND ?``: their count and win-rate sums.

    Each row's contribution is the insert trigger's own expression (``_wr_values``: the same
    rounding of x and x^2 into an integer part and a remainder), computed once per distinct
    preference of a key and multiplied by its number of rows: the integer columns equal the
    trigger's exactly, the REAL remainders up to the order of the additions. The rows are written
    to ``temp.crowd_merge_sums`` (one pass over the new rows for both tables).
    """
    from tiebreak.core.store.migrations import _wr_values

    cols = ", ".join(_SUM_COLS)
    sums = ", ".join(f"{'total' if c.endswith('_rest') else 'sum'}(k * {c}) AS {c}" for c in _SUM_COLS)
    return f"""
        CREATE TEMP TABLE crowd_merge_sums AS
        WITH g AS (
            SELECT o2.generator AS generator_2, o1.generator AS generator_1, an.group_name AS annotator,
                   a.preference AS preference, count(*) AS k
            FROM annotations a JOIN comparisons c ON c.id = a.comparison_id
            JOIN outputs o1 ON o1.id = c.output_1_id JOIN outputs o2 ON o2.id = c.output_2_id
            JOIN annotators an ON an.id = a.annotator_id
            WHERE a.id BETWEEN ? AND ? AND a.retracted_at IS NULL
            GROUP BY 1, 2, 3, 4),
        v(generator_2, generator_1, annotator, k, {cols}) AS (
            SELECT generator_2, generator_1, annotator, k, {_wr_values("g", 1)} FROM g)
        SELECT generator_2, generator_1, annotator, sum(k) AS n_rows, {sums} FROM v
        GROUP BY generator_2, generator_1, annotator"""


def _apply_sums_sql() -> str:
    """Add ``temp.crowd_merge_sums`` to winrate_sums (what the per-row insert trigger adds, once per key)."""
    cols = ", ".join(_SUM_COLS)
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in _SUM_COLS)
    return f"""
        INSERT INTO winrate_sums (generator_2, generator_1, annotator, {cols})
        SELECT generator_2, generator_1, annotator, {cols} FROM temp.crowd_merge_sums WHERE true
        ON CONFLICT (generator_2, generator_1, annotator) DO UPDATE SET {updates}"""


# What lc_version_annotation_insert does per row (version + 1 per panel), once per panel: + its row count.
_APPLY_PANEL_VERSIONS = """
    INSERT INTO lc_panel_versions (annotator, reference, version)
    SELECT annotator, generator_1, sum(n_rows) FROM temp.crowd_merge_sums WHERE true GROUP BY annotator, generator_1
    ON CONFLICT (annotator, reference) DO UPDATE SET version = version + excluded.version"""

#: The per-row insert triggers on annotations the bulk path replaces (winrate sums, LC panel versions).
_BULK_TRIGGERS = ("winrate_sums_insert", "lc_version_annotation_insert")


def _insert_annotations(tx: Any, insert: str, params: dict[str, Any], base: int, n: int) -> None:
    """Insert the ``n`` new annotation rows of the winners (ids above every existing id), keeping winrate_sums exact.

    Many rows: the per-row insert triggers (win-rate sums, LC panel versions) are dropped for this
    insert; the sums are added once per (candidate, reference, group) by the same expressions and
    each panel's version goes up by its number of new rows, as the trigger would have left it
    (the new rows are never retracted). The triggers are re-created from their own stored SQL
    before the transaction ends, so no other writer ever sees the table without them.
    """
    tx.conn.create_function("tiebreak_json_dumps", 1, json.dumps, deterministic=True)
    triggers: dict[str, str] = {}
    if n >= BULK_SUMS_MIN:
        triggers = dict(tx.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({', '.join('?' * len(_BULK_TRIGGERS))})",
            _BULK_TRIGGERS,
        ).fetchall())  # fmt: skip
    if len(triggers) < len(_BULK_TRIGGERS):  # few rows (or, not expected, a trigger missing): per-row triggers
        tx.execute(insert, params)
        return
    for name in _BULK_TRIGGERS:
        tx.execute(f"DROP TRIGGER {name}")
    tx.execute(insert, params)
    tx.execute("DROP TABLE IF EXISTS temp.crowd_merge_sums")
    tx.execute(_bulk_sums_sql(), (base + 1, base + n))
    tx.execute(_apply_sums_sql())
    tx.execute(_APPLY_PANEL_VERSIONS)
    tx.execute("DROP TABLE temp.crowd_merge_sums")
    for name in _BULK_TRIGGERS:
        tx.execute(triggers[name])
