"""The wheel carries core, gui, resources and the bundled sample; the installed app runs from it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "gui", "resources", "data")


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a clean copy of the checkout (no build/ left in the tree)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md", "__init__.py", "__main__.py"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg, ignore=ignore)
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src)], src)
    (built,) = dist.glob("tiebreak-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_resources_and_sample(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for pkg in ("resources", "data"):
        files = [p for p in (ROOT / pkg).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        missing = [str(p.relative_to(ROOT)) for p in files if str(p.relative_to(ROOT).as_posix()) not in {n.removeprefix("tiebreak/") for n in names}]
        assert not missing, f"not in the wheel: {missing}"
    assert {"tiebreak/data/sample/annotations.json.gz", "tiebreak/data/SOURCE.md", "tiebreak/core/cli/cmd_info.py",
            "tiebreak/gui/launcher.py", "tiebreak/__main__.py"} <= names
    assert {n.split("/")[0] for n in names if not n.startswith("tiebreak-")} == {"tiebreak"}  # one namespace
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "tiebreak = tiebreak.gui.launcher:main" in entry


@pytest.mark.slow
def test_installed_wheel_runs_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)], tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("TIEBREAK_DB", None)
    helped = _run([sys.executable, "-m", "tiebreak.gui.launcher", "--help"], elsewhere, env).stdout
    assert "import" in helped and "export" in helped and "info" in helped
    db = tmp_path / "x.sqlite"
    _run([sys.executable, "-m", "tiebreak.gui.launcher", "demo", "--db", str(db)], elsewhere, env)  # the sample, on request
    info = json.loads(_run([sys.executable, "-m", "tiebreak.gui.launcher", "info", "--db", str(db), "--format", "json"],
                           elsewhere, env).stdout)  # fmt: skip
    assert info["database"] == str(db) and info["annotations"] == 1200 and info["instructions"] == 200
    # one more process: the modules come from the wheel, and the default database lives in
    # the user's data directory
    script = ("import json; from tiebreak import core, gui, data, resources; from tiebreak.gui.launcher import main; "
              "print(json.dumps([m.__file__ for m in (core, gui, data, resources)])); "
              "main(['info', '--format', 'json'])")  # fmt: skip
    out = _run([sys.executable, "-c", script], elsewhere, env).stdout
    where, rest = out.split("\n", 1)
    assert all(Path(f).is_relative_to(site) for f in json.loads(where)), where  # not the checkout
    assert Path(json.loads(rest)["database"]).is_relative_to(tmp_path / "xdg")


@pytest.mark.slow
def test_console_script_in_the_venv(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "tiebreak"
    if not script.exists():
        pytest.fail(f"console script not installed at {script} (run .ci/setup)")
    out = _run([str(script), "--help"], tmp_path).stdout
    assert "usage: tiebreak" in out and "import" in out
