"""Start-up helper: import sqlite-utils without its optional pandas/numpy hooks (fast, small)."""

from __future__ import annotations

import sys

#: Optional packages that ``sqlite_utils.db`` imports only to map their scalar types.
OPTIONAL_HOOKS = ("pandas", "numpy")


def import_sqlite_utils_without_pandas() -> bool:
    """Import ``sqlite_utils.db`` with pandas and numpy hidden; True when this call did it.

    sqlite-utils imports pandas and numpy (together 0.5-2 s and ~100 MB) only to map their
    scalar types to column types when it creates tables from Python values; Tiebreak writes
    through SQL (no ``.insert``/``.upsert`` of sqlite-utils anywhere) and never does that.
    Both still import normally later, when a command or a screen needs a frame. Does nothing
    when sqlite-utils, pandas or numpy is already imported.
    """
    if "sqlite_utils" in sys.modules or any(m in sys.modules for m in OPTIONAL_HOOKS):
        return False
    for name in OPTIONAL_HOOKS:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` -> ImportError
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        for name in OPTIONAL_HOOKS:
            del sys.modules[name]
    return True
