"""Import AlpacaEval outputs, annotations and cross-annotations into a Store, atomically.

All files of one ``import_files`` call are read and validated first, then written in ONE
transaction: after any error the database is exactly as it was. Identities are stable:
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

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tiebreak.core.formats import AnnotationRecord, FormatError, ParsedFile, read_file, sql
from tiebreak.core.store import Store, Transaction, text_sha1

__all__ = ["FileReport", "ImportReport", "import_files", "import_parsed", "preview_parsed", "group_kind"]

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


def import_files(store: Store, paths: Iterable[str | Path], fmt: str | None = None) -> ImportReport:
    """Import files into ``store`` in one transaction.

    Parameters
    ----------
    store : Store
    paths : iterable of str or Path
        AlpacaEval ``model_outputs.json`` / ``annotations.json``, cross-annotation JSON, CSV
        or JSONL files (optionally gzipped).
    fmt : str, optional
        Force one of ``tiebreak.core.formats.FORMATS`` for every file; detected by default.

    Returns
    -------
    ImportReport

    Raises
    ------
    FormatError
        On the first bad record (``FILE: record N: field X: what is wrong``); nothing is kept.
    """
    parsed = [read_file(p, fmt) for p in paths]
    return import_parsed(store, parsed)


def import_parsed(store: Store, parsed: list[ParsedFile]) -> ImportReport:
    """Write already-read files in one transaction (see ``import_files``)."""
    reports = []
    store.ensure_checked()  # never write into a database that fails its integrity check
    with store.transaction() as tx:
        for pf in parsed:
            reports.append(_import_one(tx, pf))
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


def _import_one(tx: Transaction, pf: ParsedFile) -> FileReport:
    rep = FileReport(str(pf.path), pf.format, pf.kind, pf.n_records, ignored_fields=pf.ignored_fields)
    rep.previous_import = sql.previous_import(tx, pf.sha256, pf.format)
    if rep.previous_import is not None:
        return rep
    rep.import_id = sql.start_import(tx, str(pf.path.resolve()), pf.sha256, pf.format, pf.n_records)
    if pf.kind == "outputs":
        _import_outputs(tx, pf, rep)
    else:
        _import_annotations(tx, pf, rep)
    sql.finish_import(tx, rep.import_id, rep.added)
    return rep


class _Texts:
    """Per-file text interning: body -> sha1, then sha1 -> id in one batch."""

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


def _import_outputs(tx: Transaction, pf: ParsedFile, rep: FileReport) -> None:
    texts = _Texts()
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    wanted: list[tuple[str, str | None, str, str]] = []
    for r in pf.outputs:
        key = (r.instruction, r.generator)
        prev = seen.get(key)
        if prev is not None:
            if prev[0] != r.output:
                raise FormatError(pf.path, r.record, "output", f"differs from record {prev[1]} "
                                  f"for the same instruction and generator {r.generator!r}")  # fmt: skip
            rep.duplicates += 1
            continue
        seen[key] = (r.output, r.record)
        texts.add(r.instruction)
        texts.add(r.output)
        wanted.append((r.instruction, r.dataset, r.generator, r.output))
    text_id = texts.ids(tx)
    instr = _instruction_ids(tx, text_id, [(w[0], w[1]) for w in wanted], rep)
    keys = [(instr[w[0]], w[2], text_id[w[3]]) for w in wanted]
    _, rep.new["outputs"] = sql.output_ids(tx, keys)
    rep.added = rep.new["outputs"]
    rep.already_present = len(wanted) - rep.added


def _instruction_ids(tx: Transaction, text_id: dict[str, int], items: list[tuple[str, str | None]],
                     rep: FileReport) -> dict[str, int]:  # fmt: skip
    """Instruction ids by text; ordinal = order of first appearance in the file."""
    wanted: dict[int, tuple[str | None, int]] = {}
    for instruction, dataset in items:
        tid = text_id[instruction]
        if tid not in wanted:
            wanted[tid] = (dataset, len(wanted))
    by_text, rep.new["instructions"] = sql.instruction_ids(tx, wanted)
    return {body: by_text[tid] for body, tid in text_id.items() if tid in by_text}


def group_kind(group: str, explicit: str | None = None, known: dict[str, str] | None = None) -> str:
    """Kind of an annotator group: the file's ``annotator_kind``, else the kind the database
    already holds for the group, else 'human' when the name starts with "human", else 'judge'."""
    if explicit:
        return explicit
    if known and group in known:
        return known[group]
    return "human" if group.lower().startswith("human") else "judge"


def _annotators(tx: Transaction, pf: ParsedFile, rep: FileReport) -> list[tuple[int, int]]:
    """(annotator_id, seed) per record."""
    known = sql.annotator_kinds(tx)
    kinds: dict[str, str] = {}
    ids: dict[tuple[str, str | None], int] = {}
    out = []
    for r in pf.annotations:
        kind = group_kind(r.group, r.kind, known)
        if known.get(r.group, kind) != kind or kinds.setdefault(r.group, kind) != kind:
            raise FormatError(pf.path, r.record, "annotator_kind",
                              f"group {r.group!r} is a {known.get(r.group) or kinds[r.group]} group, not {kind}")  # fmt: skip
        seed, member = _seed_member(pf, r, kind)
        key = (r.group, member)
        if key not in ids:
            ids[key], created = sql.resolve_annotator(tx, r.group, kind, member)
            rep.new["annotators"] += created
        out.append((ids[key], seed))
    return out


def _seed_member(pf: ParsedFile, r: AnnotationRecord, kind: str) -> tuple[int, str | None]:
    if kind == "human":
        return 0, None if r.index is None else str(r.index)
    if r.index is None:
        return 0, None
    if not isinstance(r.index, int):
        raise FormatError(pf.path, r.record, "annotator_index",
                          f"a judge's annotator_index is its seed and must be an integer, got {r.index!r}")  # fmt: skip
    return r.index, None


def _import_annotations(tx: Transaction, pf: ParsedFile, rep: FileReport) -> None:
    texts = _Texts()
    for r in pf.annotations:
        texts.add(r.instruction)
        texts.add(r.output_1)
        texts.add(r.output_2)
    text_id = texts.ids(tx)
    who = _annotators(tx, pf, rep)
    instr = _instruction_ids(tx, text_id, [(r.instruction, r.dataset) for r in pf.annotations], rep)
    out_keys = []
    for r in pf.annotations:
        i = instr[r.instruction]
        out_keys.append(((i, r.generator_1, text_id[r.output_1]), (i, r.generator_2, text_id[r.output_2])))
    outputs, rep.new["outputs"] = sql.output_ids(tx, [k for pair in out_keys for k in pair])
    comp_keys = [(k1[0], outputs[k1], outputs[k2]) for k1, k2 in out_keys]
    comps, rep.new["comparisons"] = sql.comparison_ids(tx, comp_keys)
    comp_of = [comps[(k[1], k[2])] for k in comp_keys]
    rows = _new_annotation_rows(tx, pf, rep, comp_of, who)
    rep.new["annotations"] = rep.added = sql.insert_annotations(tx, rows)


def _new_annotation_rows(tx: Transaction, pf: ParsedFile, rep: FileReport, comp_of: list[int],
                         who: list[tuple[int, int]]) -> list[tuple[Any, ...]]:  # fmt: skip
    """Rows to insert, after checking duplicates inside the file and against the database."""
    existing = sql.existing_preferences(tx, sorted(set(comp_of)))
    seen: dict[tuple[int, int, int], AnnotationRecord] = {}
    rows = []
    for r, comp, (annotator, seed) in zip(pf.annotations, comp_of, who, strict=True):
        key = (comp, annotator, seed)
        prev = seen.get(key)
        if prev is not None:
            if not _same(prev.preference, r.preference):
                raise FormatError(pf.path, r.record, "preference", f"{r.preference!r} conflicts with "
                                  f"{prev.preference!r} in record {prev.record} (same comparison, "
                                  f"annotator and seed)")  # fmt: skip
            rep.duplicates += 1
            continue
        seen[key] = r
        stored = existing.get(key)
        if stored is not None:
            if not any(_same(p, r.preference) for p in stored):
                raise FormatError(pf.path, r.record, "preference", f"{r.preference!r} conflicts with "
                                  f"the stored {sorted(stored, key=str)[0]!r} (same comparison, "
                                  f"annotator and seed)")  # fmt: skip
            rep.already_present += 1
            continue
        rows.append((comp, annotator, r.preference, r.raw_preference, int(r.swapped), r.rationale,
                     r.raw_completion, r.price, r.seconds, seed, rep.import_id,
                     sql.dumps_extra(r.extra)))  # fmt: skip
    return rows


def _same(a: float | None, b: float | None) -> bool:
    return a == b or (a is None and b is None)
