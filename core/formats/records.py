"""Validate raw records and turn them into typed annotation / output records."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiebreak.core.formats.errors import FormatError

#: Newer AlpacaEval files (since August 2024) prefix judge metadata with ``preference_``.
ALIASES = {
    "preference_price_per_example": "price_per_example",
    "preference_time_per_example": "time_per_example",
    "preference_raw_completion": "raw_completion",
}
ANNOTATION_REQUIRED = ("instruction", "output_1", "output_2", "generator_1", "generator_2",
                       "annotator", "preference")  # fmt: skip
ANNOTATION_OPTIONAL = ("dataset", "annotator_index", "annotator_kind", "price_per_example",
                       "time_per_example", "raw_completion", "rationale", "swapped", "extra")  # fmt: skip
OUTPUT_REQUIRED = ("instruction", "output", "generator")
#: Key in ``extra`` telling the exporter that raw_completion held JSON (not a string).
RAW_JSON_KEY = "_tiebreak_raw_completion"
#: Key in a CSV ``extra`` cell listing the fields that are '' rather than missing.
EMPTY_KEY = "_tiebreak_empty"
#: Key in a CSV ``extra`` cell listing the cells our exporter prefixed with ' (formula guard).
QUOTED_KEY = "_tiebreak_quoted"
_STANDARD = frozenset(ANNOTATION_REQUIRED + ANNOTATION_OPTIONAL)
#: Text fields that name something or are the question itself: never empty or only blanks.
NON_BLANK = frozenset(("instruction", "generator", "generator_1", "generator_2", "annotator"))
#: SQLite integers are signed 64-bit.
INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(slots=True)
class AnnotationRecord:
    """One verdict on one comparison, canonical orientation (output_1 = reference)."""

    record: int
    instruction: str
    dataset: str | None
    output_1: str
    output_2: str
    generator_1: str
    generator_2: str
    group: str
    kind: str | None  # 'human' / 'judge' when the file says so; else decided by the importer
    index: int | str | None  # annotator_index: a worker, or a judge's seed
    preference: float | None  # canonical, in [1, 2] or None
    raw_preference: float | None  # as written (legacy 0 kept); shown order if ``swapped``
    swapped: bool
    price: float | None
    seconds: float | None
    raw_completion: str | None
    rationale: str | None
    extra: dict[str, Any] | None


@dataclass(slots=True)
class OutputRecord:
    """One generator's output for one instruction (AlpacaEval ``model_outputs.json``)."""

    record: int
    instruction: str
    dataset: str | None
    generator: str
    output: str


class RecordReader:
    """Converts the raw records of one file; ``textual`` means every value is a string (CSV)."""

    def __init__(self, path: Path, textual: bool) -> None:
        self.path = path
        self.textual = textual

    def fail(self, n: int, field: str, problem: str) -> FormatError:
        """A FormatError for record ``n``, field ``field``."""
        return FormatError(self.path, n, field, problem)

    # -- typed getters -------------------------------------------------------------------
    def text(self, n: int, rec: dict[str, Any], field: str) -> str:
        """A required string field."""
        if field not in rec:
            raise self.fail(n, field, "missing")
        value = rec[field]
        if not isinstance(value, str):
            raise self.fail(n, field, f"expected a string, got {_describe(value)}")
        if field in NON_BLANK and not value.strip():
            raise self.fail(n, field, "empty or only blanks (a name or an instruction is required)")
        if not value.isascii():
            self.check_unicode(n, field, value)
        return value

    def check_unicode(self, n: int, field: str, value: str) -> None:
        """Reject lone surrogates (JSON ``\\ud800`` escapes), which are not storable text."""
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = f"\\u{ord(value[exc.start]):04x}"
            raise self.fail(n, field, f"lone surrogate {bad} at character {exc.start}") from None

    def opt_text(self, n: int, rec: dict[str, Any], field: str, empty: frozenset[str] = frozenset()) -> str | None:
        """An optional string field (None / absent / '' in CSV = missing, unless in ``empty``)."""
        value = rec.get(field)
        if value is None or (self.textual and value == "" and field not in empty):
            return None
        if not isinstance(value, str):
            raise self.fail(n, field, f"expected a string or null, got {_describe(value)}")
        if not value.isascii():
            self.check_unicode(n, field, value)
        return value

    def number(self, n: int, rec: dict[str, Any], field: str, minimum: float | None = None) -> float | None:
        """An optional finite number (null, NaN and '' in CSV = missing), at least ``minimum``."""
        value = rec.get(field)
        if value is None:
            return None
        if self.textual and isinstance(value, str):
            text = value
            if text.strip() == "":
                return None
            try:
                value = float(text)
            except ValueError:
                raise self.fail(n, field, f"expected a number, got {text[:40]!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(n, field, f"expected a number or null, got {_describe(value)}")
        try:
            value = float(value)
        except OverflowError:
            raise self.fail(n, field, "a number too large for a float") from None
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise self.fail(n, field, f"{value!r} is not a finite number")
        if minimum is not None and value < minimum:
            raise self.fail(n, field, f"{value!r} is negative (must be at least {minimum:g})")
        return value

    def index(self, n: int, rec: dict[str, Any]) -> int | str | None:
        """``annotator_index``: an integer (worker or seed) or a worker name."""
        value = rec.get("annotator_index")
        if value is None or (self.textual and value == ""):
            return None
        if isinstance(value, bool) or not isinstance(value, int | str | float):
            raise self.fail(n, "annotator_index", f"expected an integer or a name, got {_describe(value)}")
        if isinstance(value, float):
            if not value.is_integer():
                raise self.fail(n, "annotator_index", f"expected an integer, got {value!r}")
            value = int(value)
        elif isinstance(value, str):
            digits = value.strip()
            if not digits:
                raise self.fail(n, "annotator_index", "empty or only blanks (a worker name or a number)")
            if not _INTEGER.fullmatch(digits):
                if not value.isascii():
                    self.check_unicode(n, "annotator_index", value)
                return value
            if len(digits) > 20:
                raise self.fail(n, "annotator_index", f"integer of {len(digits)} digits is beyond 64 bits")
            value = int(digits)
        if not INT64[0] <= value <= INT64[1]:
            raise self.fail(n, "annotator_index", f"{value} is beyond 64 bits")
        return value

    def flag(self, n: int, rec: dict[str, Any], field: str) -> bool:
        """An optional boolean (true/false, 0/1, '' = false)."""
        value = rec.get(field)
        if value in (None, "", False, 0, "0", "false", "False"):
            return False
        if value in (True, 1, "1", "true", "True"):
            return True
        raise self.fail(n, field, f"expected true/false, got {_describe(value)}")

    # -- records -------------------------------------------------------------------------
    def annotation(self, n: int, rec: dict[str, Any], need_index: bool) -> AnnotationRecord:
        """Validate one annotation record (AlpacaEval or cross-annotation columns)."""
        rec = _resolve_aliases(self.unquote(n, rec) if self.textual else rec)
        values = {f: self.text(n, rec, f) for f in ANNOTATION_REQUIRED[:-1]}
        if "preference" not in rec:
            raise self.fail(n, "preference", "missing")
        raw_pref = self.number(n, rec, "preference")
        preference = raw_pref
        if raw_pref == 0:
            preference = 1.5  # legacy AlpacaEval draw
        elif raw_pref is not None and not 1 <= raw_pref <= 2:
            raise self.fail(n, "preference", f"{raw_pref!r} is outside [1, 2] (0 = legacy draw, null = unparsed)")
        swapped = self.flag(n, rec, "swapped")
        if swapped and raw_pref is not None:
            raw_pref = 3.0 - preference  # type: ignore[operator]  # shown order
        index = self.index(n, rec)
        if need_index and index is None:
            raise self.fail(n, "annotator_index", "missing (a cross-annotation names its worker or seed)")
        kind = self.opt_text(n, rec, "annotator_kind")
        if kind not in (None, "human", "judge"):
            raise self.fail(n, "annotator_kind", f"expected 'human' or 'judge', got {kind!r}")
        raw_completion, extra, empty = self.extras(n, rec)
        return AnnotationRecord(
            record=n, dataset=self.opt_text(n, rec, "dataset", empty), group=values.pop("annotator"),
            kind=kind, index=index, preference=preference, raw_preference=raw_pref, swapped=swapped,
            price=self.number(n, rec, "price_per_example", minimum=0.0),
            seconds=self.number(n, rec, "time_per_example", minimum=0.0),
            raw_completion=raw_completion, rationale=self.opt_text(n, rec, "rationale", empty),
            extra=extra, **values,
        )

    def output(self, n: int, rec: dict[str, Any]) -> OutputRecord:
        """Validate one model-outputs record."""
        return OutputRecord(
            record=n, instruction=self.text(n, rec, "instruction"),
            dataset=self.opt_text(n, rec, "dataset"), generator=self.text(n, rec, "generator"),
            output=self.text(n, rec, "output"),
        )

    def unquote(self, n: int, rec: dict[str, Any]) -> dict[str, Any]:
        """Undo the formula guard of a Tiebreak CSV export: the cells its ``extra`` lists as
        quoted lose the apostrophe the exporter added (any other cell is taken as written)."""
        cell = rec.get("extra")
        if not cell or QUOTED_KEY not in cell:
            return rec
        try:
            quoted = json.loads(cell).get(QUOTED_KEY, ())
        except (ValueError, AttributeError, RecursionError):
            return rec  # extras() reports the bad cell
        out = dict(rec)
        for name in quoted if isinstance(quoted, list) else ():
            value = out.get(name) if isinstance(name, str) else None
            if isinstance(value, str) and value.startswith("'"):
                out[name] = value[1:]
        return out

    def extras(self, n: int, rec: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None, frozenset[str]]:
        """Raw completion as stored text, every non-standard field (kept, never dropped), and
        (CSV) the fields whose '' means an empty string, not a missing value."""
        extra: dict[str, Any] = {}
        if self.textual and rec.get("extra"):
            try:
                extra = json.loads(rec["extra"])
            except (ValueError, RecursionError) as exc:  # bad JSON, 4300+ digit integers, deep nesting
                raise self.fail(n, "extra", f"invalid JSON ({getattr(exc, 'msg', None) or exc})") from None
            if not isinstance(extra, dict):
                raise self.fail(n, "extra", "expected a JSON object")
        elif "extra" in rec and rec["extra"] is not None and not self.textual:
            extra["extra"] = rec["extra"]
        for key, value in rec.items():
            if key not in _STANDARD:
                extra[key] = value
        empty = frozenset(extra.pop(EMPTY_KEY, ()) if self.textual else ())
        if self.textual:
            extra.pop(QUOTED_KEY, None)
        raw = rec.get("raw_completion")
        if raw is None or (self.textual and raw == "" and "raw_completion" not in empty):
            raw_text = None
        elif isinstance(raw, str):
            raw_text = raw
            if not raw.isascii():
                self.check_unicode(n, "raw_completion", raw)
        else:  # a dict / list / number: stored as JSON text; the exporter restores the type
            raw_text = json.dumps(raw, separators=(",", ":"))  # ASCII: safe for any surrogate
            extra[RAW_JSON_KEY] = "json"
        return raw_text, (extra or None), empty


def _resolve_aliases(rec: dict[str, Any]) -> dict[str, Any]:
    """Map ``preference_*`` metadata names to the stored names; keep the loser in extras."""
    if not any(k in rec for k in ALIASES):
        return rec
    out = dict(rec)
    for old, new in ALIASES.items():
        if old in out and (new not in out or out[new] is None):
            out[new] = out.pop(old)
    return out


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"
