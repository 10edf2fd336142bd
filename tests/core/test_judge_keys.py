"""The API key: where it is looked up, and that it never lands in the DB, files, logs or errors."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.support.judge_data import add_comparisons
from tiebreak.core.cli import main as cli_main
from tiebreak.core.judge import JudgeError, JudgeOptions, load_config, resolve_api_key, run_judge
from tiebreak.core.judge.client import make_client, redact
from tiebreak.core.store import Store

KEY = "tbk-LEAKCHECK-5f0e2d9a71c4b3886e1d"


def test_key_lookup_order():
    assert resolve_api_key({"OPENAI_API_KEY": "a", "TIEBREAK_API_KEY": "b"}) == "a"
    assert resolve_api_key({"TIEBREAK_API_KEY": "b"}) == "b"
    assert resolve_api_key({}) is None  # keyring package absent or empty: skipped


def test_keyring_is_used_when_present_and_skipped_when_broken(monkeypatch):
    import sys
    import types

    fake = types.SimpleNamespace(get_password=lambda service, user: f"kr-{service}-{user}")
    monkeypatch.setitem(sys.modules, "keyring", fake)
    assert resolve_api_key({}) == "kr-tiebreak-openai-api-key"
    assert resolve_api_key({"TIEBREAK_API_KEY": "b"}) == "b"

    def broken(service, user):
        raise RuntimeError("no backend")

    monkeypatch.setitem(sys.modules, "keyring", types.SimpleNamespace(get_password=broken))
    assert resolve_api_key({}) is None


def test_userinfo_of_the_endpoint_is_not_stored(store, fake_openai):
    add_comparisons(store, 1)
    url = fake_openai.base_url.replace("http://", f"http://user:{KEY}@")
    run_judge(store, JudgeOptions(config=load_config("tiebreak-ranking"), base_url=url), api_key="k")
    stored = store.conn.execute("SELECT base_url FROM judge_runs").fetchone()[0]
    assert stored == fake_openai.base_url


def test_missing_key_for_openai_is_a_clear_error():
    with pytest.raises(JudgeError, match="OPENAI_API_KEY or TIEBREAK_API_KEY"):
        make_client(None, None, 10)
    assert make_client("http://127.0.0.1:9/v1", None, 10).api_key == "no-key-needed"


def test_redact_removes_the_key_and_sk_shapes():
    assert redact(f"bad key {KEY} here", KEY) == "bad key [redacted] here"
    assert "sk-abc" not in redact("Incorrect API key provided: sk-abcdef123456.", None)


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_key_never_lands_in_db_files_logs_or_errors(tmp_path, fake_openai, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    db = tmp_path / "judge.sqlite"
    store = Store(db, create=True)
    add_comparisons(store, 6)
    add_comparisons(store, 2, prefix="NONSENSE")
    store.close()
    base = ["judge", "--db", str(db)]
    assert cli_main([*base, "--config", "tiebreak-ranking", "--seeds", "0,1"]) == 1  # 4 unparsed
    assert cli_main([*base, "--config", "tiebreak-weighted", "--both-orders"]) == 1
    assert cli_main([*base, "--config", "tiebreak-ranking", "--model", "m2", "--batch",
                     "--poll-seconds", "0.01"]) == 1  # fmt: skip
    fake_openai.inject("401", times=3)  # the fake echoes the key in its error, like OpenAI does
    assert cli_main([*base, "--config", "tiebreak-ranking", "--model", "m3"]) == 2
    errors = []
    store = Store(db, create=True)
    with pytest.raises(JudgeError) as info:
        fake_openai.inject("401", times=3)
        run_judge(store, JudgeOptions(config=load_config("tiebreak-ranking"), model="m4",
                                      base_url=fake_openai.base_url), api_key=KEY)  # fmt: skip
    errors.append(str(info.value))
    failures = store.conn.execute("SELECT reason || ' ' || coalesce(detail, '') FROM judge_failures")
    errors.extend(r[0] for r in failures)
    store.close()
    out, err = capsys.readouterr()

    assert f"Bearer {KEY}" in fake_openai.seen_auth  # the key was really used
    assert "HTTP 401" in err and "[redacted]" in err
    assert store and len(errors) > 1
    haystacks = {"stdout": out, "stderr": err, "errors": "\n".join(errors), "logs": caplog.text}
    haystacks["log records"] = "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records)
    for name, text in haystacks.items():
        assert KEY not in text, f"key leaked into {name}"
    roots = [tmp_path, Path(os.environ["XDG_CONFIG_HOME"]), Path(os.environ["XDG_DATA_HOME"])]
    files = _files_under(*roots)
    assert db in files
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and KEY.encode("utf-16-le") not in data, f"key in {path}"
