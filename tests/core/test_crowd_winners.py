"""Winning labels written by SQL: the annotation's extra is what json.dumps writes, whatever the event ids."""

from __future__ import annotations

import json

import pytest

from tests.support.crowd_data import small_round
from tiebreak.core.crowd.merge import merge_files
from tiebreak.core.crowd.winners import _PLAIN_ID


@pytest.mark.parametrize(
    "odd",
    [None, 'quote"d', "back\\slash", "line\nbreak", "caf\u00e9", "UPPER-HEX-0A", "\x7f-del", "tab\tand\x01"],
)
def test_extra_names_each_event_as_json_dumps_would(tmp_path, odd):
    """Plain hex ids are quoted by SQL, a file with any other id is quoted by json.dumps: either way
    each live annotation's extra equals json.dumps(..., sort_keys=True) of its event id and round."""
    store, _ = small_round(tmp_path, ["ann", "ben"], 1, repeats=0, identical=0)
    keys = [r[0] for r in store.conn.execute("SELECT item_key FROM crowd_items WHERE kind = 'item' ORDER BY id")]
    assert len(keys) > 3
    uuids = [f"{n:032x}" if n != 2 or odd is None else odd for n in range(len(keys))]
    assert (_PLAIN_ID.fullmatch("".join(uuids)) is not None) is (odd is None)
    head = {"pack": {"round": "r", "annotator": "ann", "pack_uuid": "pk"}}
    events = [{"seq": n + 1, "uuid": u, "kind": "label", "item_key": k, "choice": "left", "swapped": 0,
               "at": f"2026-01-01T00:00:{n:02d}+00:00"} for n, (u, k) in enumerate(zip(uuids, keys, strict=True))]  # fmt: skip
    path = tmp_path / "ann.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in [head, *events]) + "\n")
    assert merge_files(store, [path]).n_failed == 0
    extras = [r[0] for r in store.conn.execute("SELECT extra FROM annotations WHERE source = 'label' ORDER BY id")]
    want = sorted(json.dumps({"crowd_event": u, "round": "r"}, sort_keys=True) for u in uuids)
    assert sorted(extras) == want
    store.close()
