"""The leaderboard's text table without pandas: laid out exactly as pandas' ``to_string(index=False)``."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tiebreak.core.cli.cmd_leaderboard import render_table
from tiebreak.core.cli.leaderboard_text import render_records, text_table

TEXT = st.text(alphabet=st.sampled_from(list("ab —–±é7-_\t\n\r")), max_size=8)
INTS = st.integers(min_value=-(10**15), max_value=10**15)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[object]]]:
    n_cols = draw(st.integers(1, 5))
    columns = [f"{draw(st.sampled_from(['model', 'n', 'avg_len', '± SE', 'x']))}{i}" for i in range(n_cols)]
    kinds = [draw(st.sampled_from(["text", "int", "mixed"])) for _ in columns]
    cell = {"text": TEXT, "int": INTS, "mixed": st.one_of(TEXT, INTS)}
    rows = draw(st.lists(st.tuples(*(cell[k] for k in kinds)).map(list), min_size=1, max_size=6))
    return columns, rows


@settings(max_examples=300, deadline=None)
@given(tables())
def test_text_table_is_pandas_to_string(table):
    """pandas is the oracle: text and integer cells, mixed columns, escapes, wide and empty cells."""
    columns, rows = table
    expected = pd.DataFrame([dict(zip(columns, r, strict=True)) for r in rows], columns=columns).to_string(index=False)
    assert text_table(columns, rows) == expected


def _record(model: str, win_rate: float, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "generator_2": model, "generator_1": "ref", "annotator": "judge", "win_rate": win_rate,
        "standard_error": 0.01, "n_wins": 3, "n_wins_base": 1, "n_draws": 0, "n_total": 4,
        "discrete_win_rate": 0.75, "n_dropped": 0, "note": "", "avg_length": 120.0,
        "length_controlled_winrate": 0.7, "lc_standard_error": 0.02, "lc_method": "fit",
        "wilson_low": 0.5, "wilson_high": 0.9, "bca_low": math.nan, "bca_high": math.nan,
    }  # fmt: skip
    return {**base, **over}


def test_render_records_equals_render_table_of_the_frame():
    """The records path (cache hit) and the DataFrame path (fresh) print the same text."""
    records = [
        _record("a", 0.5), _record("b", 0.9, note="LC: fitted", n_dropped=2), _record("c", math.nan, avg_length=math.nan),
        _record("d", 0.5, generator_1="other", annotator="humans"), _record("e", 0.5),
    ]  # fmt: skip
    frame = pd.DataFrame(records).set_index(["generator_2", "generator_1", "annotator"])
    for bca in (False, True):
        assert render_records(records, bca=bca) == render_table(frame, bca=bca)
    text = render_records(records, bca=False)
    lines = text.splitlines()
    # panels sorted by (reference, group); best first, ties in model order, undefined last
    assert lines[0] == "annotator humans vs reference other" and "annotator judge vs reference ref" in lines
    block = lines[lines.index("annotator judge vs reference ref") + 2 :]
    assert [ln.split()[0] for ln in block[:4]] == ["b", "a", "e", "c"]
    assert "rows dropped (unparsed/null preference): 2" in lines and "  note b: LC: fitted" in lines
    assert "BCa 95%" not in text and "BCa 95%" in render_records(records, bca=True)
