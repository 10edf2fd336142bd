"""Tests for tiebreak.core.domain: the one function that maps a shown choice to the canonical preference."""

import pytest

from tiebreak.core.domain import Choice, canonical_preference, normalize_preference, unswap


@pytest.mark.parametrize(
    ("choice", "swapped", "expected"),
    [
        (Choice.LEFT, False, 1.0),  # left = output_1 (reference) wins
        (Choice.RIGHT, False, 2.0),
        (Choice.LEFT, True, 2.0),  # left = output_2 when swapped
        (Choice.RIGHT, True, 1.0),
        (Choice.TIE_GOOD, True, 1.5),
        (Choice.TIE_BAD, False, 1.5),
        (Choice.SKIP, False, None),
        (Choice.CANT_JUDGE, True, None),
    ],
)
def test_canonical_preference(choice, swapped, expected):
    assert canonical_preference(choice, swapped) == expected


def test_unswap_fractional_and_null():
    assert unswap(1.25, True) == 1.75
    assert unswap(None, True) is None
    assert unswap(float("nan"), False) is None


def test_normalize_preference_legacy_zero_and_nan():
    assert normalize_preference(0) == 1.5
    assert normalize_preference(None) is None
    assert normalize_preference(float("nan")) is None
    assert normalize_preference("1.25") == 1.25
