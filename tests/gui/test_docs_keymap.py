"""docs/labelling.md's keymap tables are the app's action tables (the docs never drift from the keys)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tiebreak.gui.labelling.actions import APP_ACTIONS, LABELLING_ACTIONS, ActionSpec
from tiebreak.gui.review_mode import REVIEW_ACTIONS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "labelling.md"
HEADER = "| keys | action | menu | what it does |\n|---|---|---|---|"
TABLES = {"labelling": LABELLING_ACTIONS, "review": REVIEW_ACTIONS, "window": APP_ACTIONS}


def keymap_table(specs: tuple[ActionSpec, ...]) -> str:
    """The markdown table of ``specs`` as docs/labelling.md holds it (paste this when it changes)."""
    rows = [f"| {s.key_label} | {s.text} | {s.menu.replace('&', '')} | {s.help} |" for s in specs]
    return "\n".join([HEADER, *rows])


def documented(name: str) -> str:
    """The table between ``<!-- keymap:NAME -->`` and ``<!-- /keymap -->`` in docs/labelling.md."""
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(rf"<!-- keymap:{name} -->\n(.*?)\n<!-- /keymap -->", text, re.S)
    assert match, f"docs/labelling.md has no <!-- keymap:{name} --> block"
    return match.group(1).strip()


@pytest.mark.parametrize("name", sorted(TABLES))
def test_docs_keymap_is_the_action_table(qapp, name):
    want = keymap_table(TABLES[name])
    assert documented(name) == want, f"update docs/labelling.md's {name} keymap to:\n{want}"


def test_every_action_is_documented_once(qapp):
    ids = [s.id for specs in TABLES.values() for s in specs]
    assert len(ids) == len(set(ids))
    text = "\n".join(documented(name) for name in TABLES)
    for specs in TABLES.values():
        for spec in specs:
            assert text.count(f"| {spec.text} |") == 1, spec.id
