"""The log file (rotation, one file at a time) and the one redaction helper for URLs and keys."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tiebreak.core import logs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://user:key@host", "http://user:***@host"),
        ("https://me:sk-abc123456@api.example.com:8443/v1", "https://me:***@api.example.com:8443/v1"),
        ("see http://a:b@h/x and ftp://u:p@h2", "see http://a:***@h/x and ftp://u:***@h2"),
        ("http://:secret@host/v1", "http://:***@host/v1"),
        ("http://host:8080/v1", "http://host:8080/v1"),  # a port is not a password
        ("http://user@host/v1", "http://user@host/v1"),  # no password: nothing to hide
        ("mail me at a@b.c", "mail me at a@b.c"),
    ],
)
def test_redact_url(text: str, expected: str) -> None:
    assert logs.redact_url(text) == expected


def test_redact_removes_keys_and_the_known_secret() -> None:
    text = "key sk-proj-ABCDEF123456 header Bearer tok_123456789 and plainsecret at http://u:pw@h"
    out = logs.redact(text, secret="plainsecret")
    assert "sk-proj" not in out and "tok_123456789" not in out and "plainsecret" not in out and "pw@" not in out
    assert out.count("***") == 4


def test_log_file_redacts_and_rotates(tmp_path: Path) -> None:
    path = logs.setup_logging(tmp_path / "a" / "t.log")
    log = logging.getLogger("tiebreak.test")
    log.info("calling %s with %s", "http://user:sk-SECRET123456@host/v1", "sk-OTHER1234567")
    try:
        raise RuntimeError("boom at http://u:hidden@h")
    except RuntimeError as exc:
        logs.log_unexpected(exc, "a test")
    text = path.read_text(encoding="utf-8")
    assert "http://user:***@host/v1" in text and "SECRET" not in text and "OTHER" not in text
    assert "hidden" not in text and "Traceback (most recent call last)" in text and "in a test" in text
    for _ in range(logs.MAX_BYTES // 1000 * (logs.BACKUPS + 2)):
        log.info("x" * 1000)
    rotated = sorted(p.name for p in path.parent.iterdir())
    assert rotated == ["t.log", *(f"t.log.{i}" for i in range(1, logs.BACKUPS + 1))]
    assert all(p.stat().st_size <= logs.MAX_BYTES + 2000 for p in path.parent.iterdir())


def test_one_log_file_at_a_time(tmp_path: Path) -> None:
    first = logs.setup_logging(tmp_path / "one.log")
    assert logs.setup_logging(tmp_path / "one.log") == first
    logs.setup_logging(tmp_path / "two.log")
    logging.getLogger("tiebreak").warning("only in two")
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert [Path(h.baseFilename).name for h in handlers] == ["two.log"]
    assert "only in two" in (tmp_path / "two.log").read_text() and not (tmp_path / "one.log").exists()


def test_default_path_is_in_the_user_data_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(logs.LOG_ENV, raising=False)
    assert logs.log_path() == tmp_path / "xdg" / "tiebreak" / "logs" / "tiebreak.log"
    monkeypatch.setenv(logs.LOG_ENV, str(tmp_path / "elsewhere.log"))
    assert logs.log_path() == tmp_path / "elsewhere.log"


def test_excepthook_logs_uncaught_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    path = logs.setup_logging(tmp_path / "hook.log")
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    logs.install_excepthook(seen.append)
    try:
        raise ValueError("not caught anywhere")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert [str(e) for e in seen] == ["not caught anywhere"]
    assert "ValueError: not caught anywhere" in path.read_text(encoding="utf-8")


def test_a_registered_secret_never_reaches_the_log(tmp_path: Path) -> None:
    path = logs.setup_logging(tmp_path / "secret.log")
    logs.register_secret("local-server-key-42")  # not shaped like an sk- key
    logging.getLogger("httpx").warning("request with key local-server-key-42 failed")
    text = path.read_text(encoding="utf-8")
    assert "local-server-key-42" not in text and "request with key *** failed" in text
