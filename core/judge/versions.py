"""Versions of a judge configuration: each edit is a new annotator (NAME, NAME.v2, ...) with its text."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from tiebreak.core.errors import TiebreakError
from tiebreak.core.judge import sql
from tiebreak.core.store import Store

__all__ = ["Version", "VersionError", "versions", "version_text", "diff_versions", "group_versions"]


class VersionError(TiebreakError):
    """An unknown judge or version (the message lists the known ones)."""


@dataclass(frozen=True)
class Version:
    """One version: its annotator name, number, hash, stored configuration and verdict count."""

    name: str
    number: int
    config_hash: str
    config: dict[str, Any]
    verdicts: int


def versions(store: Store, name: str) -> list[Version]:
    """Every version of the judge ``name`` (``NAME`` then ``NAME.v2``...), oldest first.

    Raises
    ------
    VersionError
        When no judge of that name has a stored configuration.
    """
    found = sql.judge_versions(store, name)
    if not found:
        known = [r[0] for r in store.conn.execute(
            "SELECT name FROM annotators WHERE kind = 'judge' AND config IS NOT NULL ORDER BY name")]  # fmt: skip
        raise VersionError(f"no judge configuration named {name!r} in this database "
                           f"(judges with a stored configuration: {', '.join(known) or 'none'})")  # fmt: skip
    out = []
    for number, (annotator, config) in enumerate(found, start=1):
        row = store.conn.execute(
            "SELECT an.config_hash, count(a.id) FROM annotators an LEFT JOIN annotations a ON "
            "a.annotator_id = an.id AND a.retracted_at IS NULL WHERE an.name = ? GROUP BY an.id",
            (annotator,)).fetchone()  # fmt: skip
        out.append(Version(annotator, int(config.get("version") or number), row[0], config, int(row[1])))
    return out


def version_text(config: dict[str, Any]) -> list[str]:
    """The stored configuration as lines: one ``key: value`` per field, long texts as blocks."""
    lines = []
    for key in sorted(config):
        if key in ("version", "version_of", "config_hash"):  # the hash is in the diff's header
            continue
        value = config[key]
        if isinstance(value, str) and "\n" in value:
            lines.append(f"{key}: |")
            lines.extend(f"    {line}" for line in value.splitlines())
        else:
            lines.append(f"{key}: {json.dumps(value, sort_keys=True)}")
    return lines


def _pick(found: list[Version], label: str | None, default: int) -> Version:
    if label is None:
        return found[default]
    for v in found:
        if label in (v.name, str(v.number), f"v{v.number}", v.config_hash):
            return v
    raise VersionError(f"unknown version {label!r} (versions: "
                       f"{', '.join(f'v{v.number} ({v.name})' for v in found)})")  # fmt: skip


def diff_versions(store: Store, name: str, old: str | None = None, new: str | None = None) -> str:
    """Unified diff between two versions (default: the last two) of the judge ``name``."""
    found = versions(store, name)
    if len(found) < 2 and (old is None or new is None):
        raise VersionError(f"judge {name!r} has one version only ({found[0].name}, {found[0].config_hash})")
    a, b = _pick(found, old, -2), _pick(found, new, -1)
    diff = difflib.unified_diff(version_text(a.config), version_text(b.config),
                                fromfile=f"{a.name} (v{a.number}, {a.config_hash})",
                                tofile=f"{b.name} (v{b.number}, {b.config_hash})", lineterm="")  # fmt: skip
    return "\n".join(diff) or "(no difference)"


def group_versions(store: Store, groups: list[str]) -> dict[str, tuple[str, str]]:
    """{group: (version, config hash)} of judge groups; version '1' for an imported judge."""
    out = {}
    for group in groups:
        rows = store.conn.execute(
            "SELECT config, config_hash FROM annotators WHERE group_name = ? AND kind = 'judge' ORDER BY id",
            (group,)).fetchall()  # fmt: skip
        if not rows:
            continue
        numbers = sorted({str((json.loads(c) if c else {}).get("version") or 1) for c, _ in rows})
        hashes = sorted({h for _, h in rows if h})
        out[group] = ("+".join(numbers), "+".join(hashes))
    return out
