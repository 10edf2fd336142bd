"""Browse helpers: the first load (worker thread), the verdicts table and the flags / reviews line of an item."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from tiebreak.core.browse.choices import BrowseStart, browse_start_at
from tiebreak.core.browse.items import BrowseFilter, BrowseItem, preference_words
from tiebreak.gui.labelling.rich import warm_lexers
from tiebreak.gui.safe_text import plain_tooltip

__all__ = ["COLUMNS", "RATIONALE_CHARS", "fill_verdicts", "marks_text", "start_at"]

COLUMNS = ("Annotator", "Group", "Kind", "Source", "Verdict", "Preference", "Rationale / raw completion")
RATIONALE_CHARS = 300


def fill_verdicts(table: QTableWidget, item: BrowseItem) -> None:
    """One row per live verdict of ``item``, in words (or one "(no verdicts yet)" row)."""
    pair = item.pair
    table.setRowCount(len(item.verdicts))
    for row, v in enumerate(item.verdicts):
        pref = v["preference"]
        note = v["rationale"] or v["raw_completion"] or ""
        cells = (v["annotator"], v["group"] or "", v["kind"], v["source"],
                 preference_words(pref, pair.generator_1, pair.generator_2),
                 "—" if pref is None else f"{pref:.3f}",
                 " ".join(note.split())[:RATIONALE_CHARS])  # fmt: skip
        for col, text in enumerate(cells):
            cell = QTableWidgetItem(str(text))
            if col == len(cells) - 1 and note:
                cell.setToolTip(plain_tooltip(note[:4000]))
            table.setItem(row, col, cell)
    if not item.verdicts:
        table.setRowCount(1)
        table.setItem(0, 0, QTableWidgetItem("(no verdicts yet)"))


def marks_text(item: BrowseItem) -> str:
    """Flags and review actions of an item in words (empty when there are none)."""
    pair, lines = item.pair, []
    for f in item.flags:
        lines.append(f"⚑ flagged by {f['annotator'] or 'someone'}" + (f": {f['note']}" if f["note"] else ""))
    for r in item.reviews:
        final = preference_words(r["final_preference"], pair.generator_1, pair.generator_2)
        verb = "accepted" if r["action"] == "accept" else "overrode"
        lines.append(f"Review: {r['reviewer']} {verb} {r['judge_group']} → {final}"
                     + (f" ({r['reason']})" if r["reason"] else ""))  # fmt: skip
    return "\n".join(lines)


def start_at(path: str | Path, f: BrowseFilter) -> BrowseStart:
    """The first load (on a worker thread): choices and ids, and the first item's code lexers built."""
    start = browse_start_at(path, f)
    if start.first is not None:
        warm_lexers(start.first.instruction, start.first.output_1, start.first.output_2)
    return start
