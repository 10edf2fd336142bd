"""Small helpers of the store: timestamps and the content identity of texts."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

__all__ = ["text_sha1", "utcnow"]


def utcnow() -> str:
    """Current UTC time as ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def text_sha1(body: str) -> str:
    """Content identity of a text (instructions and outputs are stored once by this key)."""
    return hashlib.sha1(body.encode("utf-8", "surrogatepass")).hexdigest()
