"""Opening databases: ours only, never changing another program's file; clear one-line errors."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tiebreak.core.cli import main
from tiebreak.core.store import (
    APPLICATION_ID,
    CorruptDatabase,
    NewerDatabase,
    NoDatabase,
    NotTiebreakDatabase,
    ReadOnlyDatabase,
    Store,
    schema_generation,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = {"instruction": "Say hi", "output_1": "hi", "output_2": "hello", "generator_1": "ref",
        "generator_2": "model", "annotator": "judge_x", "preference": 1.75}  # fmt: skip
ENTRY_POINTS = (["info"], ["leaderboard"], ["export", "--format", "csv", "-o", "{out}"],
                ["judge", "--config", "tiebreak-ranking"], ["import", "{src}"])  # fmt: skip


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file of a folder with a hash of its bytes (catches changes and new -wal/-shm files)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def foreign_db(folder: Path) -> Path:
    """Another program's SQLite file (rollback journal, no application id)."""
    path = folder / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    return path


def cli(capsys: pytest.CaptureFixture[str], argv: list[str], tmp_path: Path) -> tuple[int, str]:
    src = tmp_path / "in.json"
    src.write_text(json.dumps([BASE]), "utf-8")
    code = main([a.format(out=tmp_path / "out.csv", src=src) for a in argv])
    err = capsys.readouterr().err
    return code, err


def test_a_new_database_is_stamped_as_tiebreak(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Store(path, create=True).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_generation() > 0
    conn.close()


def test_opening_an_up_to_date_database_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    Store(path, create=True).close()
    before = fingerprint(tmp_path)
    s = Store(path)
    assert s.conn.total_changes == 0
    s.close()
    assert fingerprint(tmp_path) == before


@pytest.mark.parametrize("argv", ENTRY_POINTS, ids=lambda a: a[0])
def test_another_programs_sqlite_file_is_refused_and_left_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = foreign_db(folder)
    before = fingerprint(folder)
    with pytest.raises(NotTiebreakDatabase, match="not a Tiebreak database .*tables: notes.*not changed"):
        Store(path)
    with pytest.raises(NotTiebreakDatabase):
        Store(path, create=True)  # --create never adopts another program's file
    code, err = cli(capsys, [*argv, "--db", str(path)], tmp_path)
    assert code == 2 and err.count("\n") == 1 and "not a Tiebreak database" in err and "Traceback" not in err
    assert fingerprint(folder) == before  # no WAL switch, no migration table, no sample, no -wal/-shm


def test_another_programs_wal_database_is_refused_without_a_trace(tmp_path: Path) -> None:
    path = foreign_db(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")  # another app that also uses WAL (closed cleanly)
    conn.close()
    before = fingerprint(tmp_path)
    with pytest.raises(NotTiebreakDatabase):
        Store(path, create=True)
    assert fingerprint(tmp_path) == before  # not even a -shm file


def test_a_file_that_is_not_sqlite_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello", "utf-8")
    with pytest.raises(NotTiebreakDatabase, match="not a SQLite database"):
        Store(path, create=True)
    assert path.read_text("utf-8") == "hello" and fingerprint(tmp_path) == {"notes.txt": fingerprint(tmp_path)["notes.txt"]}


def test_a_zero_byte_file_is_not_silently_adopted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(NotTiebreakDatabase, match="empty file"):
        Store(path)
    assert main(["info", "--db", str(path)]) == 2 and "empty file" in capsys.readouterr().err
    assert path.stat().st_size == 0
    assert main(["info", "--db", str(path), "--create"]) == 0  # explicit: adopted
    assert sqlite3.connect(path).execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_a_mistyped_db_is_an_error_not_a_new_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = tmp_path / "no-such-dir" / "t.sqlite"
    for argv in (["info", "--db", str(typo)], ["info", "--db", str(typo), "--create"],
                 ["import", str(tmp_path), "--db", str(typo)]):  # fmt: skip
        assert main(argv) == 2
        assert "does not exist" in capsys.readouterr().err
    assert not typo.parent.exists()
    missing = tmp_path / "t.sqlite"
    with pytest.raises(NoDatabase, match="--create"):
        Store(missing)
    assert main(["info", "--db", str(missing)]) == 2 and "no database at" in capsys.readouterr().err
    assert not missing.exists()


def test_a_database_from_a_newer_tiebreak_is_refused_with_its_version(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    Store(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema_generation() + 3}")
    conn.close()
    before = fingerprint(tmp_path)
    with pytest.raises(NewerDatabase, match=f"schema generation {schema_generation() + 3}.*up to {schema_generation()}"):
        Store(path)
    assert fingerprint(tmp_path) == before


def test_a_database_with_unknown_migrations_is_newer(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    Store(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('tiebreak', '9999_x', 'now')")
    conn.commit()
    conn.close()
    with pytest.raises(NewerDatabase, match="unknown migrations: 9999_x"):
        Store(path)


def test_an_older_tiebreak_database_without_the_id_opens_and_is_stamped(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    s = Store(path, create=True)
    with s.transaction() as tx:
        tx.instruction_id("kept")
    s.close()
    conn = sqlite3.connect(path)  # as made by an older version: no id, no user_version
    conn.execute("PRAGMA application_id = 0")
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    s = Store(path)
    assert s.counts()["instructions"] == 1
    s.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_generation()
    conn.close()


def corrupt(path: Path) -> None:
    """Overwrite the last half of the pages (table rows, not the schema) with garbage."""
    conn = sqlite3.connect(path)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with open(path, "r+b") as fh:
        for k in range(pages // 2, pages):
            fh.seek(k * page)
            fh.write(bytes((i * 37 + k) % 251 for i in range(page)))


def test_a_corrupt_database_is_a_one_line_error_everywhere(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt(sample_db)
    before = fingerprint(sample_db.parent)
    with pytest.raises(CorruptDatabase):
        Store(sample_db)
    for argv in ENTRY_POINTS:
        code, err = cli(capsys, [*argv, "--db", str(sample_db)], tmp_path)
        assert code == 2 and err.startswith("tiebreak: error: ") and "Traceback" not in err, argv
        assert err.count("\n") == 1 and str(sample_db) in err
    assert main(["check", "--db", str(sample_db)]) == 2
    after = fingerprint(sample_db.parent)
    assert after[sample_db.name] == before[sample_db.name]  # import never wrote into it


def test_import_checks_a_large_database_it_did_not_check_on_open(sample_db: Path, tmp_path: Path) -> None:
    from tiebreak.core.formats.importer import import_files

    corrupt(sample_db)
    s = Store(sample_db, check=False)  # as when the file is above the quick-check size
    src = tmp_path / "in.json"
    src.write_text(json.dumps([BASE]), "utf-8")
    with pytest.raises(CorruptDatabase, match="integrity check"):
        import_files(s, [src])
    s.close()


def test_check_command_on_a_sound_database(sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--db", str(sample_db)]) == 0
    assert capsys.readouterr().out.strip() == f"{sample_db}: ok"


@contextlib.contextmanager
def read_only(path: Path):
    """Make ``path`` unwritable for this process: chmod, or as root the immutable attribute."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        try:
            yield
        finally:
            os.chmod(path, 0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], check=False).returncode:
        pytest.skip("running as root without the immutable attribute: cannot make a file read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_database_is_a_one_line_error(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(sample_db.parent)
    with read_only(sample_db):
        for argv in ENTRY_POINTS:
            code, err = cli(capsys, [*argv, "--db", str(sample_db)], tmp_path)
            assert code == 2 and err.startswith("tiebreak: error: ") and "read-only" in err, err
            assert err.count("\n") == 1 and "Traceback" not in err
        with pytest.raises(ReadOnlyDatabase):
            Store(sample_db)
    after = fingerprint(sample_db.parent)
    assert after[sample_db.name] == before[sample_db.name]


def test_a_full_disk_during_import_is_a_one_line_error_and_changes_nothing(sample_db: Path, tmp_path: Path) -> None:
    import resource

    rows = [{**BASE, "instruction": f"q{i} " + "x" * 2000, "generator_2": f"m{i % 7}", "output_2": "y" * 3000}
            for i in range(1500)]  # fmt: skip
    src = tmp_path / "big.json"
    src.write_text(json.dumps(rows), "utf-8")
    s = Store(sample_db)
    before = s.counts()
    s.close()
    limit = sample_db.stat().st_size + 64 * 1024  # every file may grow to this size, no more

    def small_disk() -> None:
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails like ENOSPC
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = dict(os.environ)
    res = subprocess.run([sys.executable, "-m", "tiebreak", "import", str(src), "--db", str(sample_db)],
                         capture_output=True, text=True, preexec_fn=small_disk, env=env, check=False)  # fmt: skip
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.startswith("tiebreak: error: ") and res.stderr.count("\n") == 1, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    s = Store(sample_db)
    assert s.counts() == before and s.check(full=True) == []
    s.close()
