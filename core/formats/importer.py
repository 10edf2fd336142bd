"""Import AlpacaEval outputs, annotations and cross-annotations into a Store, atomically.

All files of one ``import_files`` call are checked and detected first, then streamed in
chunks of records and written in ONE transaction: after any error the database is exactly
as it was, and memory stays bounded whatever the size of the files (progress is reported
through a callback). Identities are stable:
texts are stored once (by SHA-1), an output is (instruction, generator, text), a comparison
is (output_1, output_2) and an imported annotation is (comparison, annotator, seed), so
importing the same data twice adds nothing; the same key with a different preference is a
conflict and aborts the import.

Annotators: a judge is the annotator named by the ``annotator`` column (seed =
``annotator_index``, default 0); a human worker is ``{group}/{annotator_index}`` (member =
index), reusing an existing annotator with that group and member. A group's kind comes
from an ``annotator_kind`` column, else from the database, else from its name ("human*"
= human, anything else = judge). A file whose bytes were already imported in the same
format is skipped and reported (``FileReport.previous_import``); every other file gets a
row in ``imports``. An instruction's ``ordinal`` is its position among the distinct
instructions of the file that first introduced it (AlpacaEval's canonical order for its
files).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tiebreak.core.formats import (
    AnnotationRecord,
    FormatError,
    OutputRecord,
    ParsedFile,
    open_records,
    read_file,
    sql,
)
from tiebreak.core.formats.readers import needs_whole_file
from tiebreak.core.store import Store, Transaction, text_sha1

__all__ = ["FileReport", "ImportReport", "Progress", "import_files", "import_parsed", "preview_parsed", "group_kind"]

#: Records written per step of a streamed import (one transaction for the whole import).
CHUNK_RECORDS = 5000

TABLES = ("instructions", "outputs", "comparisons", "annotators", "annotations")


@dataclass
class FileReport:
    """What one file contributed."""

    path: str
    format: str
    kind: str  # 'annotations' or 'outputs'
    records: int
    added: int = 0  # records that added a new annotation (or output)
    already_present: int = 0  # records whose annotation/output the database already held
    duplicates: int = 0  # exact repeats of an earlier record of the same file
    new: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    import_id: int | None = None
    previous_import: int | None = None  # identical bytes were imported before (skipped)
    ignored_fields: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for humans."""
        if self.previous_import is not None:
            return (f"{self.path}: {self.records} records, already imported (import "
                    f"#{self.previous_import}); nothing added")  # fmt: skip
        parts = [f"{n} {t}" for t, n in self.new.items() if n]
        line = f"{self.path} ({self.format}): {self.records} records, added {', '.join(parts) or 'nothing'}"
        if self.already_present:
            line += f"; {self.already_present} already present"
        if self.duplicates:
            line += f"; {self.duplicates} repeated within the file"
        if self.ignored_fields:
            line += f"; ignored fields: {', '.join(self.ignored_fields)}"
        for note in self.notes:
            line += f"; {note}"
        return line


@dataclass
class ImportReport:
    """The result of one ``import_files`` call."""

    files: list[FileReport]

    @property
    def records(self) -> int:
        """Records read over all files."""
        return sum(f.records for f in self.files)

    @property
    def added(self) -> int:
        """Records that added a new annotation or output, over all files."""
        return sum(f.added for f in self.files)

    @property
    def new(self) -> dict[str, int]:
        """New rows per table over all files."""
        return {t: sum(f.new[t] for f in self.files) for t in TABLES}


@dataclass(frozen=True)
class Progress:
    """Where a streamed import is: file ``file_index`` of ``n_files``, bytes of that file read."""

    path: str
    file_index: int  # from 1
    n_files: int
    records: int  # records of this file written so far
    done_bytes: int
    total_bytes: int

    @property
    def fraction(self) -> float:
        """0..1 over all files (each file counts equally)."""
        part = self.done_bytes / self.total_bytes if self.total_bytes else 1.0
        return min(1.0, (self.file_index - 1 + part) / max(1, self.n_files))

    def line(self) -> str:
        """One line for a terminal."""
        return (f"importing {self.path} ({self.file_index}/{self.n_files}): {self.records} records, "
                f"{100 * self.fraction:.0f}%")  # fmt: skip


ProgressFn = Callable[[Progress], None]


class Source(Protocol):
    """What the writer needs of a file: a ``RecordStream`` or a ``ParsedFile`` adapter."""

    path: Path
    format: str
    kind: str
    sha256: str
    size: int
    position: int
    n_records: int
    ignored_fields: list[str]
    ends_with_newline: bool

    def records(self) -> Iterator[AnnotationRecord | OutputRecord]: ...


@dataclass
class _Parsed:
    """A ParsedFile seen as a Source (already in memory)."""

    parsed: ParsedFile
    position: int = 0
    ends_with_newline: bool = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.parsed, name)

    @property
    def size(self) -> int:
        return self.parsed.n_records

    def records(self) -> Iterator[AnnotationRecord | OutputRecord]:
        items: list[AnnotationRecord | OutputRecord] = [*self.parsed.annotations, *self.parsed.outputs]
        for n, r in enumerate(items, 1):
            self.position = n
            yield r


def import_files(store: Store, paths: Iterable[str | Path], fmt: str | None = None,
                 defaults: Mapping[str, Any] | None = None, progress: ProgressFn | None = None) -> ImportReport:  # fmt: skip
    """Import files into ``store`` in one transaction, streaming their records.

    Parameters
    ----------
    store : Store
    paths : iterable of str or Path
        AlpacaEval ``model_outputs.json`` / ``annotations.json``, cross-annotation JSON, CSV
        or JSONL files (optionally gzipped). Each must be a regular file.
    fmt : str, optional
        Force one of ``tiebreak.core.formats.FORMATS`` for every file; detected by default.
    defaults : mapping, optional
        generator_1 / generator_2 / annotator for records that lack them (AlpacaEval's own
        cross-annotations name none of them).
    progress : callable, optional
        Called with a ``Progress`` after every chunk of records.

    Returns
    -------
    ImportReport

    Raises
    ------
    FormatError
        On the first bad record (``FILE: record N: field X: what is wrong``); nothing is kept.
    """
    streams = [_Parsed(read_file(p, fmt, defaults)) if needs_whole_file(p, fmt, defaults) else open_records(p, fmt)
               for p in paths]  # fmt: skip
    return _import(store, streams, progress)


def import_parsed(store: Store, parsed: list[ParsedFile]) -> ImportReport:
    """Write already-read files in one transaction (see ``import_files``)."""
    return _import(store, [_Parsed(pf) for pf in parsed], None)


def _import(store: Store, sources: list[Any], progress: ProgressFn | None) -> ImportReport:
    reports = []
    store.ensure_checked()  # never write into a database that fails its integrity check
    with store.transaction() as tx:
        for k, src in enumerate(sources, 1):

            def tick(n: int, k: int = k, src: Any = src) -> None:
                if progress is not None:
                    progress(Progress(str(src.path), k, len(sources), n, src.position, src.size))

            reports.append(_FileImport(tx, src).run(tick))
    return ImportReport(reports)


class _Preview(Exception):
    """Raised inside the dry run's transaction so that nothing is kept."""


def preview_parsed(store: Store, parsed: list[ParsedFile]) -> ImportReport:
    """What ``import_parsed`` would add, computed in a transaction that is rolled back (a dry run).

    Parameters
    ----------
    store : Store
    parsed : list of ParsedFile

    Returns
    -------
    ImportReport
        The same report the import would give (new rows per table, already present, conflicts
        raised as ``FormatError``); the database is left exactly as it was.
    """
    result: list[ImportReport] = []
    try:
        with store.transaction():
            result.append(import_parsed(store, parsed))
            raise _Preview
    except _Preview:
        pass
    return result[0]


class _Texts:
    """Per-chunk text interning: body -> sha1, then sha1 -> id in one batch."""

    def __init__(self) -> None:
        self.sha: dict[str, str] = {}
        self.bodies: dict[str, str] = {}

    def add(self, body: str) -> str:
        key = self.sha.get(body)
        if key is None:
            key = self.sha[body] = text_sha1(body)
            self.bodies[key] = body
        return key

    def ids(self, tx: Transaction) -> dict[str, int]:
        found, _ = sql.text_ids(tx, self.bodies)
        return {body: found[key] for body, key in self.sha.items()}


def group_kind(group: str, explicit: str | None = None, known: dict[str, str] | None = None) -> str:
    """Kind of an annotator group: the file's ``annotator_kind``, else the kind the database
    already holds for the group, else 'human' when the name starts with "human", else 'judge'."""
    if explicit:
        return explicit
    if known and group in known:
        return known[group]
    return "human" if group.lower().startswith("human") else "judge"


def _chunks(records: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for r in records:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _FileImport:
    """Writes one file chunk by chunk; keeps only ids (never texts) from one chunk to the next."""

    def __init__(self, tx: Transaction, src: Any) -> None:
        self.store, self.src = tx, src  # every read and write of the import goes through the one unit of work
        self.rep = FileReport(str(src.path), src.format, src.kind, 0)
        self.ordinal: dict[int, int] = {}  # instruction text id -> ordinal in this file
        self.outputs_seen: dict[tuple[int, str], tuple[int, int]] = {}  # (instr text, generator) -> (text, record)
        self.present: dict[tuple[int, int, int], float | None] = {}  # already stored before this import
        self.known = sql.annotator_kinds(tx)
        self.kinds: dict[str, str] = {}
        self.who_ids: dict[tuple[str, str | None], int] = {}

    def run(self, tick: Callable[[int], None]) -> FileReport:
        rep, src = self.rep, self.src
        rep.previous_import = sql.previous_import(self.store, src.sha256, src.format)
        if rep.previous_import is not None:
            rep.records = sum(1 for _ in src.records())  # still validated and counted
            return rep
        rep.import_id = sql.start_import(self.store, str(src.path.resolve()), src.sha256, src.format, 0)
        tick(0)
        step = self._outputs if src.kind == "outputs" else self._annotations
        for chunk in _chunks(src.records(), CHUNK_RECORDS):
            step(chunk)
            rep.records += len(chunk)
            tick(rep.records)
        rep.ignored_fields = src.ignored_fields
        if not src.ends_with_newline and src.format in ("csv", "jsonl"):
            rep.notes.append("the last line has no line end: check the file was not cut short")
        sql.finish_import(self.store, rep.import_id, rep.added, rep.records)
        return rep

    def _instructions(self, text_id: dict[str, int], items: list[tuple[str, str | None]]) -> dict[str, int]:
        """Instruction ids by text; a new one's ordinal = its first appearance in the file."""
        wanted: dict[int, tuple[str | None, int]] = {}
        for instruction, dataset in items:
            tid = text_id[instruction]
            if tid not in wanted:
                wanted[tid] = (dataset, self.ordinal.setdefault(tid, len(self.ordinal)))
        by_text, created = sql.instruction_ids(self.store, wanted)
        self.rep.new["instructions"] += created
        return {body: by_text[tid] for body, tid in text_id.items() if tid in by_text}

    def _outputs(self, chunk: list[OutputRecord]) -> None:
        texts = _Texts()
        for r in chunk:
            texts.add(r.instruction)
            texts.add(r.output)
        text_id = texts.ids(self.store)
        wanted: list[OutputRecord] = []
        for r in chunk:
            key = (text_id[r.instruction], sys.intern(r.generator))
            prev = self.outputs_seen.get(key)
            if prev is not None:
                if prev[0] != text_id[r.output]:
                    raise FormatError(self.src.path, r.record, "output", f"differs from record {prev[1]} "
                                      f"for the same instruction and generator {r.generator!r}")  # fmt: skip
                self.rep.duplicates += 1
                continue
            self.outputs_seen[key] = (text_id[r.output], r.record)
            wanted.append(r)
        instr = self._instructions(text_id, [(w.instruction, w.dataset) for w in wanted])
        keys = [(instr[w.instruction], w.generator, text_id[w.output]) for w in wanted]
        _, created = sql.output_ids(self.store, keys)
        self.rep.new["outputs"] += created
        self.rep.added += created
        self.rep.already_present += len(wanted) - created

    def _annotators(self, chunk: list[AnnotationRecord]) -> list[tuple[int, int]]:
        """(annotator_id, seed) per record."""
        out = []
        for r in chunk:
            kind = group_kind(r.group, r.kind, self.known)
            if self.known.get(r.group, kind) != kind or self.kinds.setdefault(r.group, kind) != kind:
                raise FormatError(self.src.path, r.record, "annotator_kind",
                                  f"group {r.group!r} is a {self.known.get(r.group) or self.kinds[r.group]} group, not {kind}")  # fmt: skip
            seed, member = _seed_member(self.src.path, r, kind)
            key = (r.group, member)
            if key not in self.who_ids:
                self.who_ids[key], created = sql.resolve_annotator(self.store, r.group, kind, member)
                self.rep.new["annotators"] += created
            out.append((self.who_ids[key], seed))
        return out

    def _annotations(self, chunk: list[AnnotationRecord]) -> None:
        texts = _Texts()
        for r in chunk:
            texts.add(r.instruction)
            texts.add(r.output_1)
            texts.add(r.output_2)
        text_id = texts.ids(self.store)
        who = self._annotators(chunk)
        instr = self._instructions(text_id, [(r.instruction, r.dataset) for r in chunk])
        out_keys = []
        for r in chunk:
            i = instr[r.instruction]
            out_keys.append(((i, r.generator_1, text_id[r.output_1]), (i, r.generator_2, text_id[r.output_2])))
        outputs, created = sql.output_ids(self.store, [k for pair in out_keys for k in pair])
        self.rep.new["outputs"] += created
        comp_keys = [(k1[0], outputs[k1], outputs[k2]) for k1, k2 in out_keys]
        comps, created = sql.comparison_ids(self.store, comp_keys)
        self.rep.new["comparisons"] += created
        rows = self._new_rows(chunk, [comps[(k[1], k[2])] for k in comp_keys], who)
        added = sql.insert_annotations(self.store, rows)
        self.rep.new["annotations"] += added
        self.rep.added += added

    def _new_rows(self, chunk: list[AnnotationRecord], comp_of: list[int],
                  who: list[tuple[int, int]]) -> list[tuple[Any, ...]]:  # fmt: skip
        """Rows to insert, after checking duplicates inside the file and against the database."""
        existing = sql.existing_annotations(self.store, sorted(set(comp_of)))
        seen: dict[tuple[int, int, int], AnnotationRecord] = {}
        rows = []
        for r, comp, (annotator, seed) in zip(chunk, comp_of, who, strict=True):
            key = (comp, annotator, seed)
            prev = seen.get(key)
            if prev is not None:
                _check_same(self.src.path, r, prev.preference, f"in record {prev.record}")
                self.rep.duplicates += 1
                continue
            seen[key] = r
            stored = existing.get(key, [])
            mine = [p for p, imp in stored if imp == self.rep.import_id]
            if mine or key in self.present:  # an earlier chunk of this file held it
                _check_same(self.src.path, r, mine[0] if mine else self.present[key], "in an earlier record of this file")
                self.rep.duplicates += 1
                continue
            if stored:
                if not any(_same(p, r.preference) for p, _ in stored):
                    first = sorted((p for p, _ in stored), key=str)[0]
                    raise FormatError(self.src.path, r.record, "preference", f"{r.preference!r} conflicts with "
                                      f"the stored {first!r} (same comparison, annotator and seed)")  # fmt: skip
                self.present[key] = r.preference
                self.rep.already_present += 1
                continue
            rows.append((comp, annotator, r.preference, r.raw_preference, int(r.swapped), r.rationale,
                         r.raw_completion, r.price, r.seconds, seed, self.rep.import_id,
                         _extra_text(self.src.path, r)))  # fmt: skip
        return rows


def _extra_text(path: Path, r: AnnotationRecord) -> str | None:
    try:
        return sql.dumps_extra(r.extra)
    except (RecursionError, ValueError) as exc:
        raise FormatError(path, r.record, "extra", f"cannot be stored ({exc})") from None


def _check_same(path: Path, r: AnnotationRecord, before: float | None, where: str) -> None:
    if not _same(before, r.preference):
        raise FormatError(path, r.record, "preference", f"{r.preference!r} conflicts with "
                          f"{before!r} {where} (same comparison, annotator and seed)")  # fmt: skip


def _seed_member(path: Path, r: AnnotationRecord, kind: str) -> tuple[int, str | None]:
    if kind == "human":
        return 0, None if r.index is None else str(r.index)
    if r.index is None:
        return 0, None
    if not isinstance(r.index, int):
        raise FormatError(path, r.record, "annotator_index",
                          f"a judge's annotator_index is its seed and must be an integer, got {r.index!r}")  # fmt: skip
    return r.index, None


def _same(a: float | None, b: float | None) -> bool:
    return a == b or (a is None and b is None)
