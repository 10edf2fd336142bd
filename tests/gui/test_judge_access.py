"""Judge panel access: key only in the keyring or memory, connection test, estimate, limit, fast failure."""

from __future__ import annotations

import logging
import socket
import sys
import types

import pytest

from tests.support.judge_data import add_comparisons
from tiebreak.core.store import Store

SECRET = "sk-test-SECRET-0123456789abcdef"


@pytest.fixture
def panel(qtbot, tmp_path, fake_openai, settings):
    from tiebreak.gui.context import AppContext
    from tiebreak.gui.judge_panel import JudgePanel

    db = tmp_path / "judge.sqlite"
    store = Store(db, create=True)
    add_comparisons(store, 8)
    widget = JudgePanel(AppContext(store=store, db_path=db))
    qtbot.addWidget(widget)
    widget.base_url.setText(fake_openai.base_url)
    for row in range(widget.configs.list.count()):
        if widget.configs.list.item(row).text().startswith("tiebreak-weighted "):
            widget.configs.list.setCurrentRow(row)
    yield widget
    widget.cancel()
    widget.pool.waitForDone(5000)
    widget.access.pool.waitForDone(10_000)
    widget.access.jobs.wait(10_000)
    store.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_limit_counts_comparisons_still_to_judge(panel, qtbot, fake_openai):
    with qtbot.waitSignal(panel.access.estimated, check_params_cb=lambda t: "Will ask 3 " in t):
        panel.limit.setValue(3)
    assert panel.access.estimate.text().startswith("Will ask 3 comparison(s)")
    assert "$" in panel.access.estimate.text()
    with qtbot.waitSignal(panel.run_finished, timeout=10_000) as first:
        assert panel.start()
    assert first.args[0].judged == 3
    qtbot.waitUntil(lambda: "3 already judged" in panel.access.estimate.text())
    assert "Will ask 3 comparison(s)" in panel.access.estimate.text() and "3 already judged" in panel.access.estimate.text()
    with qtbot.waitSignal(panel.run_finished, timeout=10_000) as second:
        assert panel.start()
    assert second.args[0].judged == 3  # the next three, not the same three again
    assert len(panel.ctx.store.annotations_frame(sources=["judge"])) == 6


def test_connection_test_succeeds_and_fails_with_the_reason(panel, qtbot, fake_openai):
    with qtbot.waitSignal(panel.access.tested, timeout=10_000) as ok:
        panel.access.test()
    assert ok.args[0] and "Connected" in ok.args[1] and fake_openai.chat_requests == 1
    panel.base_url.setText(f"http://127.0.0.1:{closed_port()}/v1")
    with qtbot.waitSignal(panel.access.tested, timeout=5_000) as bad:  # the requirement: within 5 s
        panel.access.test()
    assert not bad.args[0] and "connection error" in bad.args[1]
    assert panel.access.result.text().startswith("✘")


def test_unreachable_endpoint_fails_the_run_within_5_seconds(panel, qtbot):
    port = closed_port()
    panel.base_url.setText(f"http://127.0.0.1:{port}/v1")
    with qtbot.waitSignal(panel.run_failed, timeout=5_000) as failed:
        assert panel.start()
    assert "cannot reach the endpoint" in failed.args[0] and str(port) in failed.args[0]
    assert panel.start_button.isEnabled()


def test_key_is_kept_in_memory_without_keyring_and_never_written(panel, qtbot, tmp_path, settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("TIEBREAK_API_KEY", raising=False)
    log_file = tmp_path / "tiebreak.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        panel.access._describe_storage()
        assert "this session only" in panel.access.key_note.text()
        panel.access.key.setText(SECRET)
        panel.access.store_key()
        assert panel.access.key.text() == "" and panel.access.api_key() == SECRET
        with qtbot.waitSignal(panel.run_finished, timeout=10_000):
            assert panel.start()
        panel.access.test()
        qtbot.waitUntil(lambda: panel.access.test_button.isEnabled(), timeout=10_000)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    settings.sync() if hasattr(settings, "sync") else None
    panel.ctx.store.close()
    files = [panel.ctx.db_path, *tmp_path.glob("judge.sqlite*"), log_file, *tmp_path.glob("settings*.ini")]
    assert log_file.exists()
    for f in files:
        if f.exists():
            assert SECRET.encode() not in f.read_bytes(), f
    panel.ctx.store = Store(panel.ctx.db_path)  # the fixture closes it


def test_key_goes_to_the_keyring_when_present(panel, monkeypatch):
    saved = {}
    fake = types.SimpleNamespace(set_password=lambda s, u, k: saved.__setitem__((s, u), k),
                                 get_password=lambda s, u: saved.get((s, u)))
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("TIEBREAK_API_KEY", raising=False)
    panel.access._describe_storage()
    assert "OS keyring only" in panel.access.key_note.text()
    panel.access.key.setText(SECRET)
    panel.access.store_key()
    assert saved == {("tiebreak", "openai-api-key"): SECRET}
    assert panel.access._session_key == "" and panel.access.api_key() == SECRET


@pytest.fixture
def file_keyring(tmp_path):
    """A real keyring backend (keyrings.alt's file keyring) in a temporary file, for this test only."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(backend)
    return backend


def test_key_round_trips_through_a_real_keyring_and_nowhere_else(panel, file_keyring, tmp_path, settings):
    from tiebreak.core.judge.client import resolve_api_key

    panel.access._describe_storage()
    assert "OS keyring only" in panel.access.key_note.text()
    panel.access.key.setText(SECRET)
    panel.access.store_key()
    assert panel.access.key.text() == "" and panel.access._session_key == ""
    assert file_keyring.get_password("tiebreak", "openai-api-key") == SECRET
    assert resolve_api_key({}) == SECRET  # the CLI's judge finds the same key
    settings.sync() if hasattr(settings, "sync") else None
    others = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "keyring_pass.cfg"]
    assert others and not [p for p in others if SECRET.encode() in p.read_bytes()]


def test_a_refusing_keyring_keeps_the_key_for_the_session_only(panel):
    import keyring

    assert isinstance(keyring.get_keyring(), keyring.backends.fail.Keyring)  # the suite's default
    panel.access.key.setText(SECRET)
    panel.access.store_key()
    assert "refused the key (NoKeyringError)" in panel.access.key_note.text()
    assert panel.access.api_key() == SECRET


def test_screenshots(panel, qtbot):
    from pathlib import Path

    shots = Path("/tmp/shots/app")
    shots.mkdir(parents=True, exist_ok=True)
    with qtbot.waitSignal(panel.access.estimated, timeout=10_000):
        panel.limit.setValue(5)
    panel.show()
    with qtbot.waitSignal(panel.access.tested, timeout=10_000):
        panel.access.test()
    for w, h in ((1024, 640), (2560, 1440)):
        panel.resize(w, h)
        qtbot.wait(50)
        assert panel.grab().save(str(shots / f"judge-{w}x{h}.png"))


def test_the_panel_opens_without_importing_keyring_or_openai(tmp_path):
    """keyring (a quarter second) and openai (seconds) load when a key is stored or a call is made."""
    import json
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    db = tmp_path / "judge.sqlite"
    store = Store(db, create=True)
    add_comparisons(store, 4)
    store.close()
    code = (
        "import json, sys\nfrom tiebreak.gui.app import make_application\n"
        "from tiebreak.gui.context import AppContext\nfrom tiebreak.gui.judge_panel import JudgePanel\n"
        "from tiebreak.core.store import Store\napp = make_application()\n"
        f"panel = JudgePanel(AppContext(store=Store({str(db)!r}), db_path=None))\npanel.show()\napp.processEvents()\n"
        "print(json.dumps([panel.access.key_note.text(), 'keyring' in sys.modules, 'openai' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120,
                         env={"PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                              "HOME": str(tmp_path)}, check=True)  # fmt: skip
    note, keyring_loaded, openai_loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "OS keyring only" in note  # keyring is installed: found without importing it
    assert not keyring_loaded and not openai_loaded


def test_panel_is_busy_until_its_debounced_estimate_is_shown(panel, qtbot):
    panel.limit.setValue(2)  # an estimate is asked for: waiting in the debounce, not yet a running job
    assert panel.busy and not panel.access.jobs.busy
    qtbot.waitUntil(lambda: panel.access.estimate.text().startswith("Will ask 2 "), timeout=10_000)
    qtbot.waitUntil(lambda: not panel.busy)  # the visit's figures wait for it (bench_gui's ready)
