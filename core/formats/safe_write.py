"""Write an output file safely: never over a database, never half-written, never a silent overwrite."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from tiebreak.core.errors import TiebreakError

__all__ = ["OutputFileError", "check_target", "write_safely"]

SQLITE_HEADER = b"SQLite format 3\x00"
#: Companion files of a SQLite database: writing one of them corrupts the database.
SQLITE_SUFFIXES = ("-wal", "-shm", "-journal")


class OutputFileError(TiebreakError):
    """An output file was refused (a database, a symlink, an existing file) or could not be written."""


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_target(path: str | os.PathLike[str], *, force: bool = False,
                 protect: Iterable[str | os.PathLike[str] | None] = ()) -> Path:  # fmt: skip
    """Refuse an output path that would destroy something; return it as a Path.

    Refused: a symbolic link (never silently replaced), anything that is not a regular file, a
    SQLite file (any database, even with ``force``), the ``-wal`` / ``-shm`` / ``-journal`` file of
    a SQLite database, any file of the ``protect`` databases (the open one), an existing file
    without ``force``, a missing folder.

    Raises
    ------
    OutputFileError
    """
    target = Path(path).expanduser()
    if target.is_symlink():
        raise OutputFileError(f"{target} is a symbolic link (to {os.readlink(target)}); it is not replaced: "
                              "give the real path")  # fmt: skip
    if not target.parent.is_dir():
        raise OutputFileError(f"cannot write {target}: the folder {target.parent} does not exist")
    for db in protect:
        if db is None:
            continue
        for suffix in ("", *SQLITE_SUFFIXES):
            if _same(target, Path(f"{db}{suffix}")) or target.resolve() == Path(f"{db}{suffix}").resolve():
                raise OutputFileError(f"{target} is the open database{' ' + suffix[1:] + ' file' if suffix else ''}"
                                      f" ({db}); export never writes over it")  # fmt: skip
    for suffix in SQLITE_SUFFIXES:
        if target.name.endswith(suffix) and _is_sqlite(target.with_name(target.name[: -len(suffix)])):
            raise OutputFileError(f"{target} belongs to the SQLite database "
                                  f"{target.with_name(target.name[: -len(suffix)])}; it is not written")  # fmt: skip
    if target.exists():
        mode = target.stat().st_mode
        if not stat.S_ISREG(mode):
            raise OutputFileError(f"{target} exists and is not a regular file; it is not replaced")
        if _is_sqlite(target):
            raise OutputFileError(f"{target} is a SQLite database; export never writes over a database")
        if not force:
            raise OutputFileError(f"{target} already exists; use --force to replace it")
    return target


def write_safely(
    path: str | os.PathLike[str],
    write: Callable[[IO[Any]], object],
    *,
    force: bool = False,
    protect: Iterable[str | os.PathLike[str] | None] = (),
    binary: bool = False,
    encoding: str = "utf-8",
    newline: str | None = "",
) -> Path:
    """Write a file through ``write(fh)``: to a temporary file in the target folder, then renamed.

    Every exporter writes through this function. The target is checked by :func:`check_target`
    (``force`` allows replacing an existing ordinary file; ``protect`` names the open database).
    On any error (including a full disk) the temporary file is removed and the target is left as
    it was; without ``force`` a file that appears meanwhile is not replaced either.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OutputFileError
        A refused target or a failed write (the message names the file and the reason).
    """
    protect = list(protect)
    target = check_target(path, force=force, protect=protect)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        mode = "wb" if binary else "w"
        kwargs: dict[str, Any] = {} if binary else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        _set_mode(tmp, target)
        check_target(target, force=force, protect=protect)  # again, just before the rename
        _place(tmp, target, force)
    except OSError as exc:
        raise OutputFileError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def _set_mode(tmp: Path, target: Path) -> None:
    """The replaced file's permissions, else those of a new file (0666 less the umask)."""
    if target.exists():
        os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        return
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


def _place(tmp: Path, target: Path, force: bool) -> None:
    """Rename ``tmp`` to ``target``; without ``force``, never over a file created meanwhile."""
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic: fails if the target exists
    except FileExistsError:
        raise OutputFileError(f"{target} already exists; use --force to replace it") from None
    except OSError:  # a filesystem without hard links
        if target.exists():
            raise OutputFileError(f"{target} already exists; use --force to replace it") from None
        os.replace(tmp, target)
