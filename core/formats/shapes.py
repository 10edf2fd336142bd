"""AlpacaEval's own record shapes that lack Tiebreak's required names, completed from options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Fields a caller may supply for records that lack them (``tiebreak import --generator-1`` ...).
DEFAULT_FIELDS = ("generator_1", "generator_2", "annotator")
#: The hint added to a "missing" error on one of DEFAULT_FIELDS.
HINT = {
    "generator_1": "--generator-1 NAME (the reference, output_1)",
    "generator_2": "--generator-2 NAME (the model, output_2)",
    "annotator": "--annotator NAME (the annotator group, e.g. humans)",
}

Numbered = list[tuple[int, dict[str, Any]]]


def fill_defaults(records: Numbered, defaults: Mapping[str, Any] | None) -> Numbered:
    """Records with the missing (absent or null) DEFAULT_FIELDS filled in.

    AlpacaEval's cross-annotations (its test fixture, the ``alpaca_farm_human_crossannotations``
    dataset) have no generator or annotator columns; its gold annotations name the model in a
    ``generator`` column, used for ``generator_2`` when no default is given. A value in the file
    always wins over a default.
    """
    given = {k: v for k, v in (defaults or {}).items() if v is not None}
    if not given and not ("generator" in records[0][1] and "output_1" in records[0][1]):
        return records
    out: Numbered = []
    for n, rec in records:
        filled = dict(rec)
        if filled.get("generator_2") is None and "output_1" in filled and isinstance(filled.get("generator"), str):
            filled["generator_2"] = filled["generator"]
        if "output_1" in filled and "generator" in filled and filled["generator"] == filled.get("generator_2"):
            del filled["generator"]  # Analyzer's copy of generator_2 (our cross-annotation export)
        for key, value in given.items():
            if filled.get(key) is None:
                filled[key] = value
        out.append((n, filled))
    return out
