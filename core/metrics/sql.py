"""SQL reads for the metrics: lean annotation frames, win-rate sums, output lengths, lookups.

numpy and pandas are imported inside the functions that build frames, so the name checks and
plain reads (``avg_lengths``, ``check_groups``) cost no import.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from tiebreak.core.metrics.accumulate import SCALE, SUMS_FIELDS, WinRateSums
from tiebreak.core.store import Store, UnknownName, text_sha1

if TYPE_CHECKING:  # numpy and pandas are imported by the functions that build frames
    import pandas as pd

__all__ = [
    "metric_frame",
    "lean_frame",
    "winrate_sums",
    "winrate_sums_scan",
    "sums_filters",
    "AGG_SQL",
    "winrate_accumulators",
    "generator_lengths",
    "avg_lengths",
    "instruction_ids_by_text",
    "check_generators",
    "check_groups",
]

_FRAME_SQL = """
    SELECT a.id AS annotation_id, a.comparison_id, c.instruction_id,
           o1.generator AS generator_1, o2.generator AS generator_2,
           t1.length AS length_1, t2.length AS length_2,
           (o1.text_id = o2.text_id) AS same_output,
           an.group_name AS annotator, an.kind AS annotator_kind, a.seed,
           a.preference
    FROM annotations a
    JOIN comparisons c ON c.id = a.comparison_id
    JOIN outputs o1 ON o1.id = c.output_1_id JOIN texts t1 ON t1.id = o1.text_id
    JOIN outputs o2 ON o2.id = c.output_2_id JOIN texts t2 ON t2.id = o2.text_id
    JOIN annotators an ON an.id = a.annotator_id
    WHERE a.retracted_at IS NULL {where}
    ORDER BY a.id
"""


def _in(col: str, values: Sequence[str] | None, where: list[str], args: list[str]) -> None:
    if values:
        where.append(f"AND {col} IN ({', '.join('?' * len(values))})")
        args.extend(values)


def metric_frame(
    store: Store,
    *,
    groups: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
    generators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Live (non-retracted) annotations without texts: what the win-rate and LC metrics need.

    Parameters
    ----------
    store : Store
        The database.
    groups, references, generators : sequence of str, optional
        Restrict to these annotator groups / reference generators (``generator_1``) /
        candidate generators (``generator_2``). Unknown names raise :class:`UnknownName`.

    Returns
    -------
    pandas.DataFrame
        Columns annotation_id, comparison_id, instruction_id, generator_1, generator_2,
        length_1, length_2, same_output, annotator, annotator_kind, seed, preference.
    """
    import pandas as pd

    check_groups(store, groups or [])
    check_generators(store, [*(references or []), *(generators or [])])
    where: list[str] = []
    args: list[str] = []
    _in("an.group_name", groups, where, args)
    _in("o1.generator", references, where, args)
    _in("o2.generator", generators, where, args)
    frame = pd.read_sql_query(_FRAME_SQL.format(where=" ".join(where)), store.conn, params=args)
    frame["preference"] = frame["preference"].astype(float)
    return frame


_LEAN_SQL = """
    SELECT a.id, a.comparison_id, c.instruction_id, c.output_1_id, c.output_2_id, a.annotator_id, a.seed,
           coalesce(a.preference, -1.0)
    FROM annotations a JOIN comparisons c ON c.id = a.comparison_id
    WHERE a.retracted_at IS NULL ORDER BY a.id
"""
_LEAN_COLUMNS = ["annotation_id", "comparison_id", "instruction_id", "generator_1", "generator_2", "length_1",
                 "length_2", "same_output", "annotator", "annotator_kind", "seed", "preference"]  # fmt: skip


def lean_frame(
    store: Store,
    *,
    groups: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`metric_frame`'s rows and columns read as numbers (no join on texts per annotation).

    Reads the annotations with their comparison's output ids (numbers only, converted by numpy
    in one step), the outputs' generator and length once per output and the annotators' group
    and kind once per annotator, and puts them together by indexing. Same rows, order, values
    and dtypes as :func:`metric_frame` (the leaderboard's frame at 170,000 annotations).
    Filters as :func:`metric_frame` (candidates are not filtered here).
    """
    import numpy as np
    import pandas as pd

    check_groups(store, groups or [])
    check_generators(store, references or [])
    rows = store.conn.execute(_LEAN_SQL).fetchall()
    if not rows:
        return metric_frame(store, groups=groups, references=references)
    num = np.array(rows, dtype=float)  # ids are exact in float64 (< 2^53); the schema's preferences are >= 0
    ids = num[:, :7].astype(np.int64)
    pref = np.where(num[:, 7] < 0, np.nan, num[:, 7])
    o_id, o_gen, o_text, o_len = zip(*store.conn.execute(
        "SELECT o.id, o.generator, o.text_id, t.length FROM outputs o JOIN texts t ON t.id = o.text_id"
    ).fetchall(), strict=True)  # fmt: skip
    o_idx = np.asarray(o_id, dtype=np.int64)
    codes, gen_names = pd.factorize(np.asarray(o_gen, dtype=object))
    gen, text, length = (np.full(int(o_idx.max()) + 1, -1, dtype=np.int64) for _ in range(3))
    gen[o_idx], text[o_idx], length[o_idx] = codes, o_text, o_len
    ann = store.conn.execute("SELECT id, group_name, kind FROM annotators").fetchall()
    a_code = np.full(max(a[0] for a in ann) + 1, -1, dtype=np.int64)
    for n, (aid, _, _) in enumerate(ann):
        a_code[aid] = n
    o1, o2, ac = ids[:, 3], ids[:, 4], a_code[ids[:, 5]]
    g_arr = np.asarray(gen_names, dtype=object)
    an_arr, kind_arr = (np.array([a[k] for a in ann], dtype=object) for k in (1, 2))
    frame = pd.DataFrame({
        "annotation_id": ids[:, 0], "comparison_id": ids[:, 1], "instruction_id": ids[:, 2],
        "generator_1": g_arr[gen[o1]], "generator_2": g_arr[gen[o2]], "length_1": length[o1],
        "length_2": length[o2], "same_output": (text[o1] == text[o2]).astype(np.int64),
        "annotator": an_arr[ac], "annotator_kind": kind_arr[ac], "seed": ids[:, 6], "preference": pref,
    }, columns=_LEAN_COLUMNS)  # fmt: skip
    keep = np.ones(len(frame), dtype=bool)
    if groups:
        keep &= frame["annotator"].isin(groups).to_numpy()
    if references:
        keep &= frame["generator_1"].isin(references).to_numpy()
    return frame if keep.all() else frame[keep].reset_index(drop=True)


def _filters(
    store: Store,
    cols: tuple[str, str, str],
    groups: Sequence[str] | None,
    references: Sequence[str] | None,
    generators: Sequence[str] | None,
) -> tuple[str, list[str]]:
    """Checked names -> ``AND col IN (...)`` clauses for (group, reference, candidate) columns."""
    check_groups(store, groups or [])
    check_generators(store, [*(references or []), *(generators or [])])
    where: list[str] = []
    args: list[str] = []
    for col, values in zip(cols, (groups, references, generators), strict=True):
        _in(col, values, where, args)
    return " ".join(where), args


SUMS_COLUMNS = ("n_rows", "n_total", "sum_x", "sum_x2", "n_wins", "n_wins_base", "n_draws")
_KEYS = ["generator_2", "generator_1", "annotator"]
_FIXED_SCALE = 1.0 / SCALE  # winrate_sums keeps round(x * 2^32) as INTEGER plus a REAL remainder

AGG_SQL = """
    SELECT generator_2, generator_1, annotator, n_total + n_dropped, n_total,
           sum_x_fixed, sum_x_rest, sum_x2_fixed, sum_x2_rest, n_wins, n_wins_base, n_draws
    FROM winrate_sums WHERE 1 = 1 {where} ORDER BY 1, 2, 3
"""


def sums_filters(
    store: Store, groups: Sequence[str] | None, references: Sequence[str] | None
) -> tuple[str, list[str]]:
    """The checked ``WHERE`` clauses of :data:`AGG_SQL` (the ``winrate_sums`` table) and their arguments."""
    return _filters(store, ("annotator", "generator_1", "generator_2"), groups, references, None)


def winrate_sums(
    store: Store,
    *,
    groups: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
    generators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Sufficient statistics of the win-rate row per (generator_2, generator_1, annotator).

    Read from the ``winrate_sums`` table, which triggers keep equal to the live annotations
    (migration ``0006_winrate_sums``): no annotation row is scanned. AlpacaEval's cleaning is
    built in (keep 1 <= p <= 2; x = p - 1; nulls counted in ``n_rows - n_total``; the schema
    admits no other values). Sums of x and x^2 are stored as an exact integer part (units of
    2^-32) plus a tiny REAL remainder, so they equal a fresh sum to ~1e-16 whatever the
    history of inserts and retractions. Feed the result to ``tiebreak.core.metrics.winrate.from_sums``.
    Filters as :func:`metric_frame`.

    Returns
    -------
    pandas.DataFrame
        Indexed by (generator_2, generator_1, annotator), sorted; columns n_rows, n_total,
        sum_x, sum_x2, n_wins, n_wins_base, n_draws.
    """
    import numpy as np
    import pandas as pd

    where, args = _filters(store, ("annotator", "generator_1", "generator_2"), groups, references, generators)
    rows = store.conn.execute(AGG_SQL.format(where=where), args).fetchall()
    g2, g1, an, n_rows, n_total, sx_f, sx_r, sx2_f, sx2_r, wins, base, draws = (
        zip(*rows, strict=True) if rows else ((),) * 12
    )
    sum_x = [f * _FIXED_SCALE + r for f, r in zip(sx_f, sx_r, strict=True)]
    sum_x2 = [f * _FIXED_SCALE + r for f, r in zip(sx2_f, sx2_r, strict=True)]
    data = dict(zip(SUMS_COLUMNS, (n_rows, n_total, sum_x, sum_x2, wins, base, draws), strict=True))
    return pd.DataFrame(
        {c: np.asarray(v, dtype=float if c.startswith("sum") else np.int64) for c, v in data.items()},
        index=_sorted_index([g2, g1, an]),
    )


def winrate_accumulators(store: Store) -> dict[tuple[str, str, str], WinRateSums]:
    """The ``winrate_sums`` table as :class:`~tiebreak.core.metrics.accumulate.WinRateSums` objects.

    The table holds exactly the accumulator's fields (the triggers add a label's contribution
    with the same rounding as :meth:`WinRateSums.add`), so ``acc.finalise()`` here, a live
    accumulator and :func:`winrate_sums` + ``from_sums`` all give the same row.

    Returns
    -------
    dict
        (generator_2, generator_1, annotator) -> sums.
    """
    cols = ", ".join(SUMS_FIELDS)
    rows = store.conn.execute(f"SELECT generator_2, generator_1, annotator, {cols} FROM winrate_sums ORDER BY 1, 2, 3")
    return {(g2, g1, an): WinRateSums(*values) for g2, g1, an, *values in rows}


def _sorted_index(columns: list[Sequence[str]]) -> pd.MultiIndex:
    """MultiIndex of rows already sorted by the key columns, built without pandas' factorizing."""
    import pandas as pd

    levels, codes = [], []
    for col in columns:
        uniques = sorted(set(col))
        position = {v: i for i, v in enumerate(uniques)}
        levels.append(pd.Index(uniques, dtype=object if not uniques else None))
        codes.append([position[v] for v in col])
    # arg-type: pandas-stubs type levels as plain sequences; pandas takes a list of Index
    return pd.MultiIndex(levels=levels, codes=codes, names=_KEYS, verify_integrity=False)  # type: ignore[arg-type]


_SUMS_SQL = """
    SELECT o2.generator AS generator_2, o1.generator AS generator_1, an.group_name AS annotator,
           count(*) AS n_rows,
           sum(a.preference = 0 OR (a.preference >= 1 AND a.preference <= 2)) AS n_total,
           total(CASE WHEN a.preference = 0 THEN 0.5
                      WHEN a.preference >= 1 AND a.preference <= 2 THEN a.preference - 1 END) AS sum_x,
           total(CASE WHEN a.preference = 0 THEN 0.25
                      WHEN a.preference >= 1 AND a.preference <= 2
                      THEN (a.preference - 1) * (a.preference - 1) END) AS sum_x2,
           sum(a.preference > 1.5 AND a.preference <= 2) AS n_wins,
           sum(a.preference >= 1 AND a.preference < 1.5) AS n_wins_base,
           sum(a.preference = 1.5 OR a.preference = 0) AS n_draws
    FROM annotations a
    JOIN comparisons c ON c.id = a.comparison_id
    JOIN outputs o1 ON o1.id = c.output_1_id
    JOIN outputs o2 ON o2.id = c.output_2_id
    JOIN annotators an ON an.id = a.annotator_id
    WHERE a.retracted_at IS NULL {where}
    GROUP BY o2.generator, o1.generator, an.group_name
    ORDER BY 1, 2, 3
"""


def winrate_sums_scan(
    store: Store,
    *,
    groups: Sequence[str] | None = None,
    references: Sequence[str] | None = None,
    generators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`winrate_sums` recomputed by joining and grouping every live annotation row.

    The slow reference for the trigger-kept table (tests, benchmarks); same index and columns.
    Sums are plain REAL totals here. Filters as :func:`metric_frame`.
    """
    import pandas as pd

    cols = ("an.group_name", "o1.generator", "o2.generator")
    where, args = _filters(store, cols, groups, references, generators)
    rows = store.conn.execute(_SUMS_SQL.format(where=where), args).fetchall()
    frame = pd.DataFrame(rows, columns=[*_KEYS, *SUMS_COLUMNS])
    for col in ("n_rows", "n_total", "n_wins", "n_wins_base", "n_draws"):
        frame[col] = frame[col].fillna(0).astype(int)
    return frame.set_index(_KEYS)


def generator_lengths(store: Store) -> pd.DataFrame:
    """Per generator: outputs, distinct instructions, total characters and AlpacaEval avg_length.

    Returns
    -------
    pandas.DataFrame
        Indexed by generator; columns n_outputs, n_instructions, total_chars, avg_length
        (int(total_chars / n_outputs), lengths in Unicode code points).
    """
    import pandas as pd

    frame = pd.read_sql_query(
        """SELECT o.generator, count(*) AS n_outputs,
                  count(DISTINCT o.instruction_id) AS n_instructions,
                  sum(t.length) AS total_chars
           FROM outputs o JOIN texts t ON t.id = o.text_id
           GROUP BY o.generator ORDER BY o.generator""",
        store.conn,
    ).set_index("generator")
    frame["avg_length"] = (frame["total_chars"] // frame["n_outputs"]).astype(int)
    return frame


def avg_lengths(store: Store) -> dict[str, int]:
    """AlpacaEval ``avg_length`` per generator, from the trigger-kept ``generator_length_sums``.

    Equal to ``generator_lengths(store)["avg_length"]`` (int(total_chars / n_outputs)) without
    reading the texts table.
    """
    rows = store.conn.execute(
        "SELECT generator, total_chars, n_outputs FROM generator_length_sums WHERE n_outputs > 0"
    ).fetchall()
    return {g: total // n for g, total, n in rows}


def instruction_ids_by_text(store: Store, texts: Iterable[str]) -> list[int | None]:
    """Instruction id for each text (None where the database does not hold it), by content hash.

    Parameters
    ----------
    store : Store
        The database.
    texts : iterable of str
        Instruction texts, e.g. the ``instruction`` column of AlpacaEval's difficulty table.
    """
    rows = store.conn.execute(
        "SELECT t.sha1, i.id FROM instructions i JOIN texts t ON t.id = i.text_id"
    ).fetchall()
    by_sha = {sha: int(iid) for sha, iid in rows}
    return [by_sha.get(text_sha1(t)) for t in texts]


def check_generators(store: Store, names: Iterable[str]) -> None:
    """Raise :class:`UnknownName` for any generator name without stored outputs."""
    names = list(names)
    if not names:
        return
    known = set(store.generators())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownName(
            f"unknown generator(s): {', '.join(map(repr, unknown))}; the database holds "
            f"{', '.join(sorted(known)) or 'none'}"
        )


def check_groups(store: Store, names: Iterable[str]) -> None:
    """Raise :class:`UnknownName` for any annotator group the database does not hold."""
    names = list(names)
    if not names:
        return
    known = {g["group"] for g in store.groups()}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownName(
            f"unknown annotator group(s): {', '.join(map(repr, unknown))}; the database holds "
            f"{', '.join(sorted(known)) or 'none'}"
        )
