"""Exports never destroy: not the open database, not any SQLite file, not a symlink; whole or nothing."""

from __future__ import annotations

import errno
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from tiebreak.core.cli import main
from tiebreak.core.formats.safe_write import OutputFileError, write_safely

EXPORT = ["export", "--format", "jsonl", "--annotator", "weighted_alpaca_eval_gpt4_turbo"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(folder: Path) -> dict[str, str]:
    return {p.name: (f"-> {p.readlink()}" if p.is_symlink() else digest(p)) for p in sorted(folder.iterdir())
            if p.is_symlink() or p.is_file()}  # fmt: skip


def export(capsys: pytest.CaptureFixture[str], db: Path, out: Path, *extra: str) -> tuple[int, str]:
    code = main([*EXPORT, "--db", str(db), "-o", str(out), *extra])
    return code, capsys.readouterr().err


def test_exporting_onto_the_open_database_is_refused(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(sample_db)
    for target in (sample_db, Path(f"{sample_db}-wal"), Path(f"{sample_db}-shm")):
        for force in ((), ("--force",)):
            code, err = export(capsys, sample_db, target, *force)
            assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
            assert "database" in err
    assert digest(sample_db) == before
    assert main(["info", "--db", str(sample_db)]) == 0  # still a working database
    assert "annotations   1200" in capsys.readouterr().out


def test_exporting_onto_another_sqlite_file_is_refused_even_with_force(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "notes.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = digest(other)
    code, err = export(capsys, sample_db, other, "--force")
    assert code == 2 and "is a SQLite database" in err
    code, err = export(capsys, sample_db, Path(f"{other}-journal"), "--force")
    assert code == 2 and "belongs to the SQLite database" in err
    assert digest(other) == before and not Path(f"{other}-journal").exists()


def test_an_existing_file_is_replaced_only_with_force(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.jsonl"
    out.write_text("mine\n", "utf-8")
    code, err = export(capsys, sample_db, out)
    assert code == 2 and "already exists; use --force" in err
    assert out.read_text("utf-8") == "mine\n"
    code, _ = export(capsys, sample_db, out, "--force")
    assert code == 0 and len(out.read_text("utf-8").splitlines()) == 1200
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_symlink_is_not_silently_replaced(sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("keep\n", "utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "nowhere.jsonl")
    before = folder_state(tmp_path)
    for target in (link, dangling):
        for force in ((), ("--force",)):
            code, err = export(capsys, sample_db, target, *force)
            assert code == 2 and "symbolic link" in err
    assert folder_state(tmp_path) == before and not (tmp_path / "nowhere.jsonl").exists()


def test_a_failing_write_leaves_no_part_file_and_the_target_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("old", "utf-8")

    def half_then_full(fh) -> None:
        fh.write("[1, 2,")
        raise OSError(errno.ENOSPC, "No space left on device")

    for force in (False, True):
        with pytest.raises(OutputFileError, match="No space left on device" if force else "already exists"):
            write_safely(out, half_then_full, force=force)
    with pytest.raises(ZeroDivisionError):  # any error, not only OSError
        write_safely(tmp_path / "new.json", lambda fh: 1 / 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    assert out.read_text("utf-8") == "old"


def test_a_new_file_gets_ordinary_permissions_and_whole_content(tmp_path: Path) -> None:
    out = write_safely(tmp_path / "n.json", lambda fh: json.dump({"a": 1}, fh))
    assert json.loads(out.read_text("utf-8")) == {"a": 1}
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_missing_folder_and_non_regular_targets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="does not exist"):
        write_safely(tmp_path / "typo" / "x.json", lambda fh: fh.write("x"))
    assert not (tmp_path / "typo").exists()
    with pytest.raises(OutputFileError, match="not a regular file"):
        write_safely(tmp_path, lambda fh: fh.write("x"), force=True)


def test_the_spot_check_export_refuses_the_database_too(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tiebreak.core.formats.safe_write import check_target

    before = digest(sample_db)
    with pytest.raises(OutputFileError, match="open database"):
        check_target(Path(f"{sample_db}-wal"), force=True, protect=[sample_db])
    # the spot-check command writes through the same function
    code = main(["spotcheck", "export", "--db", str(sample_db), "--out", str(sample_db), "--force"])
    assert code == 2 and digest(sample_db) == before
