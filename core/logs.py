"""The log: one rotating file in the user data directory, with credentials redacted on the way in."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

__all__ = [
    "LOG_ENV",
    "log_path",
    "setup_logging",
    "install_excepthook",
    "log_unexpected",
    "redact",
    "redact_url",
    "register_secret",
]

#: Environment variable that moves the log file (tests, packagers); else the user data directory.
LOG_ENV = "TIEBREAK_LOG"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"

log = logging.getLogger("tiebreak")
_handler: logging.handlers.RotatingFileHandler | None = None
_secrets: set[str] = set()  # credentials in use (e.g. the judge's API key): never written to the log

# scheme://user:password@host -> scheme://user:***@host (the password is the API key there)
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*):[^/\s@]+@")
# anything shaped like an OpenAI-style key, and bearer tokens in headers
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}|(?<=Bearer )[A-Za-z0-9._\-]{6,}")


def redact_url(text: str) -> str:
    """``text`` with the password of every URL replaced: ``http://u:key@h`` -> ``http://u:***@h``.

    Parameters
    ----------
    text : str
        A URL, or any text that may contain URLs.

    Returns
    -------
    str
        The same text; only the ``:password`` part before ``@`` of each URL is replaced.
    """
    return _URL_CREDENTIALS.sub(r"\g<head>:***@", text)


def redact(text: str, secret: str | None = None) -> str:
    """``text`` with URL passwords, key-shaped tokens and ``secret`` (if given) replaced.

    Parameters
    ----------
    text : str
        What is about to be printed or logged.
    secret : str, optional
        A known credential (e.g. the API key in use) to remove wherever it appears.

    Returns
    -------
    str
        The redacted text (``***`` in place of each credential).
    """
    if secret and len(secret) >= 4:
        text = text.replace(secret, "***")
    return _KEY_LIKE.sub("***", redact_url(text))


def register_secret(secret: str | None) -> None:
    """Remember a credential in use: every log record is written with it replaced by ``***``."""
    if secret and len(secret) >= 4:
        _secrets.add(secret)


class _RedactingFormatter(logging.Formatter):
    """Formats a record (with its traceback) and then redacts the whole text."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in _secrets:
            text = text.replace(secret, "***")
        return redact(text)


def log_path() -> Path:
    """Where the log is written: ``$TIEBREAK_LOG``, else ``logs/tiebreak.log`` in the data directory."""
    env = os.environ.get(LOG_ENV)
    if env:
        return Path(env).expanduser()
    from tiebreak.core.paths import user_data_dir  # platformdirs: only when the log is set up

    return user_data_dir() / "logs" / "tiebreak.log"


def setup_logging(path: Path | None = None, level: int = logging.INFO) -> Path:
    """Send Tiebreak's log records (and other libraries' warnings) to the rotating log file.

    Idempotent: a second call with the same path adds nothing; another path replaces the file.
    A log file that cannot be created (read-only home) leaves logging to Python's last-resort
    handler (stderr, warnings and worse) instead of failing.

    Parameters
    ----------
    path : Path, optional
        The file (default :func:`log_path`); up to ``BACKUPS`` rotated copies sit beside it.
    level : int
        Level of the ``tiebreak`` logger (other loggers stay at WARNING).

    Returns
    -------
    Path
        The log file's path (what ``tiebreak info`` shows and error messages point to).
    """
    global _handler
    try:
        path = Path(path) if path is not None else log_path()
        if _handler is not None and Path(_handler.baseFilename) == path.absolute():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
    except OSError:
        return Path(path) if path is not None else Path(os.devnull)
    root = logging.getLogger()
    if _handler is not None:  # one log file at a time (another database's process, a test)
        root.removeHandler(_handler)
        _handler.close()
    _handler = handler
    handler.setFormatter(_RedactingFormatter(FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    log.setLevel(level)
    logging.captureWarnings(True)
    return path


def log_unexpected(exc: BaseException, where: str = "") -> None:
    """Log an exception that is a bug (not a TiebreakError) with its full traceback."""
    log.error("unexpected error%s: %s", f" in {where}" if where else "", exc, exc_info=exc)


def install_excepthook(on_error: Callable[[BaseException], None] | None = None) -> None:
    """Route uncaught exceptions to the log; ``on_error`` (e.g. the GUI's reporter) is told too.

    Ctrl+C keeps Python's default behaviour (no traceback in the log).
    """

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        log_unexpected(exc, "uncaught")
        if on_error is not None:
            on_error(exc)

    sys.excepthook = hook
