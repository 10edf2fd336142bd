"""The wheel installs one top-level package, ``tiebreak``, and runs from a fresh venv beside a package
that has its own top-level ``data`` and ``resources``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "gui", "resources", "data")
OTHER_DATA = '"""The other project\'s own data package."""\nOWNER = "otherpkg"\n'


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _pip(*args: str, cwd: Path) -> None:
    """This interpreter's pip (the fresh venv has none)."""
    _run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], cwd)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a clean copy of the checkout (no build/ left in the tree)."""
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md", "__main__.py"):
        shutil.copy2(ROOT / name, src / name)
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg, ignore=ignore)
    dist = tmp_path_factory.mktemp("dist")
    _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src), cwd=src)
    (built,) = dist.glob("tiebreak-*.whl")
    return built


@pytest.fixture(scope="module")
def other_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of another project whose top-level packages are ``data`` and ``resources``."""
    src = tmp_path_factory.mktemp("other")
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "otherpkg"\nversion = "1.0"\n'
        '[tool.setuptools]\npackages = ["data", "resources"]\n'
    )
    for pkg in ("data", "resources"):
        (src / pkg).mkdir()
    (src / "data" / "__init__.py").write_text(OTHER_DATA)
    (src / "resources" / "__init__.py").write_text('OWNER = "otherpkg"\n')
    dist = tmp_path_factory.mktemp("other-dist")
    _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(src), cwd=src)
    (built,) = dist.glob("otherpkg-*.whl")
    return built


def _dependency_dirs() -> list[str]:
    """Where this interpreter finds PySide6, pandas, ... (site-packages and what its .pth files add)."""
    return [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path, other_wheel: Path) -> Path:
    """A new venv (no pip) with the other package, then Tiebreak's wheel, installed.

    The dependencies come from this interpreter's site-packages through a .pth file (a second
    PySide6 install is too slow); entries that a .pth file *adds* are plain paths, so this
    environment's editable install of the checkout (an import hook) does not come along.
    """
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], env_dir).stdout.strip())
    (site / "_tiebreak_test_deps.pth").write_text("\n".join(_dependency_dirs()) + "\n")
    for whl in (other_wheel, wheel):
        _pip("--python", str(python), "install", "--no-deps", "--no-index", "-q", str(whl), cwd=env_dir)
    return env_dir


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TIEBREAK_DB", "VIRTUAL_ENV")}
    return {**env, "XDG_DATA_HOME": str(tmp_path / "xdg"), "QT_QPA_PLATFORM": "offscreen"}


@pytest.mark.slow
def test_wheel_has_one_top_level_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for pkg in ("resources", "data"):
        files = [p for p in (ROOT / pkg).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        missing = [str(p.relative_to(ROOT)) for p in files if f"tiebreak/{p.relative_to(ROOT).as_posix()}" not in names]
        assert not missing, f"not in the wheel: {missing}"
    assert {"tiebreak/data/sample/annotations.json.gz", "tiebreak/data/SOURCE.md", "tiebreak/core/cli/cmd_info.py",
            "tiebreak/gui/launcher.py", "tiebreak/__main__.py", "tiebreak/resources/tiebreak.svg",
            "tiebreak/resources/tiebreak.desktop"} <= names  # fmt: skip
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"tiebreak"}  # one namespace
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "tiebreak = tiebreak.gui.launcher:main" in entry


@pytest.mark.slow
def test_installed_beside_another_data_package(fresh_venv: Path, tmp_path: Path) -> None:
    python, env = fresh_venv / "bin" / "python", _env(tmp_path)
    where = json.loads(_run([str(python), "-c",
        "import json, data, resources, tiebreak, tiebreak.data, tiebreak.core.cli as c; "
        "from tiebreak.core.version import version; "
        "print(json.dumps([tiebreak.__path__[0] + '/__main__.py', tiebreak.data.__file__, c.__file__, data.__file__, "
        "data.OWNER, resources.OWNER, version()]))"], tmp_path, env).stdout)  # fmt: skip
    assert all(Path(f).is_relative_to(fresh_venv) for f in where[:3]), where  # the wheel, not the checkout
    assert where[4:6] == ["otherpkg", "otherpkg"] and where[6] == "0.2.0"
    assert Path(where[3]).read_text() == OTHER_DATA  # the other package's data/__init__.py is untouched


@pytest.mark.slow
def test_console_script_runs_info_and_help(fresh_venv: Path, tmp_path: Path) -> None:
    script, env = fresh_venv / "bin" / "tiebreak", _env(tmp_path)
    helped = _run([str(script), "--help"], tmp_path, env).stdout
    assert helped.startswith("usage: tiebreak") and all(c in helped for c in ("import", "export", "info", "gui"))
    _run([str(script), "demo"], tmp_path, env)  # the bundled sample, on request
    info = json.loads(_run([str(script), "info", "--format", "json"], tmp_path, env).stdout)
    assert Path(info["database"]).is_relative_to(tmp_path / "xdg") and info["annotations"] == 1200
    assert Path(info["log"]).is_relative_to(tmp_path / "xdg")
    # uninstalling the other package leaves Tiebreak whole (its data/ was never shared)
    _pip("--python", str(fresh_venv / "bin" / "python"), "uninstall", "-y", "-q", "otherpkg", cwd=tmp_path)
    assert json.loads(_run([str(script), "info", "--format", "json"], tmp_path, env).stdout)["instructions"] == 200


@pytest.mark.slow
def test_python_m_tiebreak_opens_the_app(fresh_venv: Path, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    png = tmp_path / "out.png"
    cmd = [str(fresh_venv / "bin" / "python"), "-m", "tiebreak", "gui", "--screenshot", str(png)]
    _run(cmd, tmp_path, _env(tmp_path))
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 400 and image.height() > 300
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20  # a drawn window (text, widgets), not a blank rectangle


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"tiebreak"} | {
        ".".join(("tiebreak", *init.parent.relative_to(ROOT).parts))
        for top in PACKAGES
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == set(), "listed in pyproject.toml but not a package folder"


def test_desktop_entry_and_icon() -> None:
    import configparser

    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(ROOT / "resources" / "tiebreak.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert desktop["Type"] == "Application" and desktop["Exec"].split()[0] in scripts
    assert desktop["TryExec"] in scripts and desktop["Terminal"] == "false"
    assert (ROOT / "resources" / f"{desktop['Icon']}.svg").is_file()
    assert desktop["Categories"].endswith(";")
