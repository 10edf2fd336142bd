"""Property-based fuzzing of every reader: any bytes in -> a clean FormatError or a valid import, never a
traceback, and the database file byte-for-byte unchanged after an error."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiebreak.core.formats import FormatError
from tiebreak.core.formats.importer import import_files
from tiebreak.core.store import Store

pytestmark = pytest.mark.slow

BASE = {"instruction": "Say hi", "output_1": "hi", "output_2": "hello", "generator_1": "ref",
        "generator_2": "model", "annotator": "judge_x", "preference": 1.75}  # fmt: skip
FIELDS = [*BASE, "annotator_index", "annotator_kind", "price_per_example", "time_per_example", "dataset",
          "raw_completion", "rationale", "swapped", "extra", "output", "generator", "preference_price_per_example"]  # fmt: skip
#: Inputs tried and tracebacks seen, per test (printed at the end of each test: run with -s).
TALLY: dict[str, list[int]] = {}
#: Examples per test: small in CI (all twelve run in well under a minute); raise it for a long hunt.
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck),
               max_examples=int(os.environ.get("TIEBREAK_FUZZ_EXAMPLES", "120")))


def db_bytes(path: Path) -> str:
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        p = Path(str(path) + suffix)
        h.update(p.read_bytes() if p.exists() else b"<none>")
    return h.hexdigest()


class Harness:
    """One database file; every input is imported into it and checked."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self.db = folder / "fuzz.sqlite"
        self.store = Store(self.db, create=True)
        self.n = 0
        TALLY[name] = [0, 0, 0]  # tried, imported, tracebacks

    def feed(self, data: bytes, suffix: str) -> None:
        self.n += 1
        path = self.folder / f"in{self.n}{suffix}"
        path.write_bytes(data)
        before = db_bytes(self.db)
        tally = TALLY[self.name]
        tally[0] += 1
        try:
            import_files(self.store, [path])
            tally[1] += 1
        except FormatError as exc:
            assert str(path) in str(exc) and ": record " in str(exc) and ": field " in str(exc)
            assert db_bytes(self.db) == before, f"database changed after {exc}"
        except BaseException:
            tally[2] += 1
            raise
        finally:
            path.unlink()

    def close(self) -> None:
        self.store.close()
        tried, imported, tracebacks = TALLY[self.name]
        print(f"\nfuzz {self.name}: {tried} inputs tried, {imported} imported, {tracebacks} tracebacks")


@pytest.fixture
def harness(tmp_path: Path, request: pytest.FixtureRequest):
    h = Harness(tmp_path, request.node.name)
    yield h
    h.close()


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".csv", ".json.gz", ""])
def test_any_bytes(harness: Harness, suffix: str) -> None:
    @FUZZ
    @given(st.binary(max_size=600))
    def check(data: bytes) -> None:
        harness.feed(gzip.compress(data) if suffix.endswith(".gz") else data, suffix)

    check()


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
                      st.sampled_from(["", " ", "1", "-1", "1e999", "nan", "human", "judge", "true"]))  # fmt: skip
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=8)
record = st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=len(FIELDS)).map(lambda r: {**BASE, **r})
#: Values the issue names: beyond 64 bits, too big for a float, infinite, negative, blank.
hostile_leaf = st.sampled_from([2**64, -(2**63) - 1, 10**400, 1e300, float("inf"), float("-inf"), -1, -1e-9,
                                "", " ", "\t", "9" * 30, "\u202e", "\x00"])  # fmt: skip
one_field = st.tuples(st.sampled_from(FIELDS), st.one_of(hostile_leaf, json_leaf)).map(
    lambda kv: {**BASE, kv[0]: kv[1]})  # every other field valid


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_records_of_any_shape(harness: Harness, suffix: str) -> None:
    @FUZZ
    @given(st.lists(st.one_of(one_field, record, json_value), min_size=0, max_size=4))
    def check(records: list) -> None:
        if suffix == ".json":
            data = json.dumps(records)
        else:
            data = "".join(json.dumps(r) + "\n" for r in records)
        harness.feed(data.encode("utf-8", "surrogatepass"), suffix)

    check()


cell = st.one_of(st.text(max_size=10), st.sampled_from(["", " ", "nan", "inf", "-1", "1.5", "99999999999999999999",
                                                         "{}", "[1]", "\"", "\r", "human", "0"]))  # fmt: skip


def test_csv_of_any_columns_and_cells(harness: Harness) -> None:
    @FUZZ
    @given(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=12, unique=True).flatmap(
        lambda cols: st.tuples(st.just(cols), st.lists(st.lists(cell, min_size=len(cols), max_size=len(cols)), max_size=4))))
    def check(table: tuple[list[str], list[list[str]]]) -> None:
        import csv
        import io

        cols, rows = table
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(cols)
        writer.writerows([[BASE.get(c, v) if v == "" else v for c, v in zip(cols, r, strict=True)] for r in rows])
        harness.feed(out.getvalue().encode("utf-8", "surrogatepass"), ".csv")

    check()


VALID = {
    ".json": json.dumps([BASE, {**BASE, "generator_2": "b", "annotator_index": 1}], indent=1).encode(),
    ".jsonl": (json.dumps(BASE) + "\n" + json.dumps({**BASE, "generator_2": "c"}) + "\n").encode(),
    ".csv": (",".join(BASE) + "\nSay hi,hi,hello,ref,model,judge_x,1.75\nq,a,b,ref,m,j,1\n").encode(),
    ".json.gz": gzip.compress(json.dumps([BASE]).encode()),
}


@pytest.mark.parametrize("suffix", list(VALID))
def test_mutated_valid_files(harness: Harness, suffix: str) -> None:
    valid = VALID[suffix]

    @FUZZ
    @given(st.lists(st.tuples(st.integers(0, len(valid)), st.integers(0, 8), st.binary(max_size=6)), min_size=1, max_size=4))
    def check(edits: list[tuple[int, int, bytes]]) -> None:
        data = valid
        for at, cut, insert in edits:
            data = data[:at] + insert + data[at + cut :]
        harness.feed(data, suffix)

    check()


HOSTILE_VALUES = [2**64, -(2**63) - 1, 10**400, 1e300, float("inf"), float("-inf"), float("nan"), -1, -1e-9,
                  "", " ", "\t", "9" * 30, "9" * 5000, "\u202e", "\x00", "inf", "-1", [], {}, None, True]  # fmt: skip


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_every_field_with_every_hostile_value(harness: Harness, suffix: str) -> None:
    """The grid the issue lists (64-bit overflow, infinities, negatives, blanks...) in every field."""
    import csv
    import io

    for name in FIELDS:
        for value in HOSTILE_VALUES:
            rec = {**BASE, name: value}
            if suffix == ".json":
                harness.feed(json.dumps([BASE, rec]).encode(), suffix)
                continue
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rec))
            writer.writeheader()
            writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in rec.items()})
            harness.feed(out.getvalue().encode("utf-8", "surrogatepass"), suffix)
