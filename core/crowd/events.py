"""Work events leaving a pack: read them from a pack file or an events file (JSONL), write them out."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from tiebreak.core.crowd.pack import PackInfo, read_identity
from tiebreak.core.crowd.round import RoundError

__all__ = ["EVENT_FIELDS", "EVENT_KINDS", "PackEvents", "read_events", "write_events", "live_labels", "live_rows", "pack_summary"]

EVENT_FIELDS = ("seq", "uuid", "kind", "item_key", "choice", "swapped", "shown_at", "submitted_at",
                "seconds", "note", "refers_to", "at")  # fmt: skip
EVENT_KINDS = ("label", "retraction", "redo", "skip", "flag", "session_start", "session_end")
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _head(path: Path) -> bytes:
    """The first 16 bytes of a file (the SQLite header magic), without reading the rest."""
    with path.open("rb") as f:
        return f.read(16)


@dataclass
class PackEvents:
    """A pack's identity and its events in the order they happened (``seq``).

    ``rows`` are tuples in :data:`EVENT_FIELDS` order (what a merge needs, cheap to read);
    ``events`` gives them as dicts. ``from_pack``: read from a pack file (not an events file).
    """

    info: PackInfo
    rows: list[tuple[Any, ...]]
    from_pack: bool = False

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events as dicts keyed by :data:`EVENT_FIELDS`."""
        return [dict(zip(EVENT_FIELDS, row, strict=True)) for row in self.rows]


def _from_pack(path: Path) -> PackEvents:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RoundError(f"{path}: cannot open: {exc}") from exc
    try:
        info = read_identity(conn, path)
        rows = conn.execute(f"SELECT {', '.join(EVENT_FIELDS)} FROM crowd_pack_events ORDER BY seq").fetchall()
    except sqlite3.Error as exc:
        raise RoundError(f"{path}: unreadable pack: {exc}") from exc
    finally:
        conn.close()
    return PackEvents(info, rows, from_pack=True)


def pack_summary(path: str | Path) -> tuple[PackInfo, int, int] | None:
    """(identity, number of events, last sequence number) of a pack file; None for other files.

    Events in a pack are only ever appended, so equal counts and last numbers mean nothing new.
    """
    p = Path(path)
    try:
        if not p.is_file() or _head(p) != _SQLITE_MAGIC:
            return None
        conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    except (OSError, sqlite3.Error):
        return None
    try:
        info = read_identity(conn, p)
        n, last = conn.execute("SELECT count(*), coalesce(max(seq), 0) FROM crowd_pack_events").fetchone()
    except (sqlite3.Error, RoundError):
        return None
    finally:
        conn.close()
    return info, int(n), int(last)


def _from_jsonl(path: Path, text: str) -> PackEvents:
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        head = json.loads(lines[0]) if lines else None
        if not isinstance(head, dict) or not isinstance(head.get("pack"), dict):
            raise RoundError(f"{path}: line 1 is not an events-file header {{\"pack\": {{...}}}}")
        p = head["pack"]
        info = PackInfo(path, str(p["round"]), str(p["annotator"]), str(p.get("group") or "humans"),
                        str(p["pack_uuid"]), str(p.get("guidelines") or ""))  # fmt: skip
        events = []
        for n, line in enumerate(lines[1:], 2):
            ev = json.loads(line)
            if not isinstance(ev, dict) or not ev.get("uuid") or ev.get("kind") not in EVENT_KINDS:
                raise RoundError(f"{path}: line {n} is not an event (needs uuid and a known kind)")
            events.append(tuple(ev.get(k) for k in EVENT_FIELDS))
    except (json.JSONDecodeError, KeyError) as exc:
        raise RoundError(f"{path}: bad events file: {exc}") from exc
    return PackEvents(info, events)


def read_events(path: str | Path) -> PackEvents:
    """Events of a pack (``.tiebreak``) or of an events file written by :func:`write_events`.

    Raises
    ------
    RoundError
        Missing, unreadable or foreign file (the message names it).
    """
    p = Path(path)
    try:
        head = _head(p) if p.is_file() else None
    except OSError as exc:
        raise RoundError(f"{p}: cannot read: {exc.strerror or exc}") from exc
    if head is None:
        raise RoundError(f"{p}: no such file")
    if head == _SQLITE_MAGIC:
        return _from_pack(p)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RoundError(f"{p}: neither a pack nor an events file") from exc
    return _from_jsonl(p, text)


def write_events(pack: str | Path, out: str | Path) -> int:
    """Write a pack's identity and events as JSONL (a smaller file to send back); returns the count."""
    data = read_events(pack)
    ident = asdict(data.info)
    ident.pop("path")
    target = Path(out)
    tmp = target.with_name(target.name + ".part")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"pack": ident}) + "\n")
        for ev in data.events:
            fh.write(json.dumps(ev) + "\n")
    tmp.replace(target)
    return len(data.events)


def live_labels(events: list[dict[str, Any]]) -> dict[tuple[Any, str], dict[str, Any]]:
    """The winning label per (annotator, item): the latest label event that is still live.

    ``events`` carry ``annotator`` (any hashable), ``item_key``, ``kind``, ``uuid``,
    ``refers_to``, ``at`` and ``seq``. A label is live unless its latest retraction / redo
    event is a retraction; among live labels of one annotator and item, the latest (``at``,
    then ``seq``, then ``uuid``) wins. Older labels stay in the history.
    """
    return _live(events, str, itemgetter("annotator"))


def live_rows(rows: list[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    """:func:`live_labels` for one annotator's events as tuples in :data:`EVENT_FIELDS` order: item -> winner."""
    best = _live(rows, EVENT_FIELDS.index, lambda _row: None)
    return {key: row for (_, key), row in best.items()}


def _live(events: list[Any], field: Callable[[str], Any], worker: Callable[[Any], Any]) -> dict[tuple[Any, str], Any]:
    """The rule of :func:`live_labels` on events read through ``field(name)`` (a dict key or a position)."""
    kind, uuid, refers_to, item, at, seq = (itemgetter(field(f)) for f in ("kind", "uuid", "refers_to", "item_key", "at", "seq"))

    def order(ev: Any) -> tuple[str, int, str]:
        return (str(at(ev))[:26], int(seq(ev) or 0), str(uuid(ev)))

    state: dict[str, bool] = {}
    for ev in sorted((e for e in events if kind(e) in ("retraction", "redo")), key=order):
        state[refers_to(ev)] = kind(ev) == "redo"
    best: dict[tuple[Any, str], Any] = {}
    for ev in events:
        if kind(ev) != "label" or not item(ev) or (state and not state.get(uuid(ev), True)):
            continue
        key = (worker(ev), item(ev))
        old = best.get(key)
        if old is None or order(ev) > order(old):
            best[key] = ev
    return best
