"""The CLI's one error boundary and its lazy registry: real commands, real subprocess pipes, real log files."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from tiebreak.core import cli
from tiebreak.core.cli import COMMANDS, main


def _crash(args: argparse.Namespace) -> int:
    """A command with a bug (what main must turn into a log entry and exit 1)."""
    return {"n": 1}["missing"]


def _register_crash(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("crash").set_defaults(func=_crash)


def test_expected_error_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "t.sqlite"
    assert main(["demo", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "--db", str(db), "--annotator", "nobody"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("tiebreak: error: ") and "nobody" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_errors_raised_in_core_are_not_rewrapped_by_commands() -> None:
    """Commands let core's TiebreakErrors through to main (no ``except X: raise CliError(str(X))``)."""
    rewrapping = []
    for name, (module, _) in COMMANDS.items():
        source = Path(importlib.import_module(module).__file__ or "").read_text(encoding="utf-8")
        if "raise CliError(str(exc))" in source or "raise cli.CliError(str(exc))" in source:
            rewrapping.append(name)
    assert not rewrapping


def test_a_bug_goes_to_the_log_with_its_traceback_not_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "logs" / "t.log"
    monkeypatch.setenv("TIEBREAK_LOG", str(log))
    assert main(["crash"], extra=_register_crash) == 1
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert "KeyError" in err and str(log) in err  # says what and where the details are
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in _crash" in text and "tiebreak crash" in text


def _cli(args: list[str], env: dict[str, str], stdout: int) -> subprocess.CompletedProcess[str]:
    code = "import sys; from tiebreak.gui.launcher import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, env=env, timeout=300)  # fmt: skip


@pytest.mark.parametrize("args", [["info"], ["leaderboard", "--resamples", "0"], ["--help"]])
def test_stdout_closed_early_prints_no_traceback(tmp_path: Path, args: list[str]) -> None:
    """`tiebreak info | head -1`: the reader is gone before the first write; no BrokenPipe traceback."""
    db = tmp_path / "t.sqlite"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg"), "TIEBREAK_DB": str(db)}
    assert _cli(["demo"], env, subprocess.DEVNULL).returncode == 0  # creates the database, with the sample
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `head` that has exited: every write to the pipe fails (EPIPE)
    try:
        proc = _cli(args, env, write_end)
    finally:
        os.close(write_end)
    assert proc.stderr == "", proc.stderr
    assert proc.returncode in (0, cli.EXIT_BROKEN_PIPE)


def test_stdout_closed_after_the_first_line(tmp_path: Path) -> None:
    """The real `| head -1` shape: one line read, then the pipe closed while the command writes."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg"), "TIEBREAK_DB": str(tmp_path / "t.sqlite")}
    assert _cli(["demo"], env, subprocess.DEVNULL).returncode == 0
    code = "import sys; from tiebreak.gui.launcher import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "leaderboard", "--resamples", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) in (0, cli.EXIT_BROKEN_PIPE)
    assert first.startswith("annotator ") and "Traceback" not in err and "BrokenPipe" not in err


def test_info_shows_the_log_path(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIEBREAK_LOG", str(tmp_path / "here.log"))
    assert main(["info", "--db", str(tmp_path / "t.sqlite"), "--create", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["log"] == str(tmp_path / "here.log")
    monkeypatch.delenv("TIEBREAK_LOG")
    assert main(["info", "--db", str(tmp_path / "t.sqlite")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("log "))
    assert Path(line.split(None, 1)[1]).is_relative_to(Path(os.environ["XDG_DATA_HOME"]))


def test_registry_names_every_command_module_and_its_help() -> None:
    """COMMANDS (read without importing) agrees with the cmd_* modules and their own help text."""
    modules = {f"{cli.__name__}.{m.name}" for m in pkgutil.iter_modules(cli.__path__) if m.name.startswith("cmd_")}
    assert {module for module, _ in COMMANDS.values()} == modules
    for name, (module, help_text) in COMMANDS.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        (action,) = sub._choices_actions
        assert (action.dest, action.help) == (name, help_text)


def test_only_the_command_that_runs_is_imported(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    code = ("import sys, json\nfrom tiebreak.core.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('tiebreak.core.cli.cmd_'))))")  # fmt: skip
    db = str(tmp_path / "t.sqlite")
    cases = ((["--help"], []), (["info", "--help"], ["tiebreak.core.cli.cmd_info"]),
             (["info", "--db", db], ["tiebreak.core.cli.cmd_info"]),
             (["leaderboard", "--db", db, "--resamples", "0"], ["tiebreak.core.cli.cmd_leaderboard"]))  # fmt: skip
    for args, expected in cases:
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                             timeout=300).stdout  # fmt: skip
        assert json.loads(out.strip().splitlines()[-1]) == expected, args
        if args == ["--help"]:
            assert all(name in out for name in COMMANDS)  # every command is listed all the same
