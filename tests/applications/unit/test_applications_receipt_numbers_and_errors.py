"""Receipt numbers, the clock, and the error catalogue (code, ja/en messages, HTTP status)."""

from __future__ import annotations

import inspect
from datetime import date, datetime

import pytest

from applications.domain import errors
from applications.domain.clock import FixedClock, age_on
from applications.domain.receipt_numbers import (
    PROVISIONAL_PATTERN,
    RECEIPT_PATTERN,
    format_provisional_receipt_number,
    format_receipt_number,
)

pytestmark = pytest.mark.unit


def test_formats_the_provisional_receipt_number_as_t_date_and_six_digits() -> None:
    number = format_provisional_receipt_number(date(2025, 4, 1), 42)
    assert number == "T20250401000042" and PROVISIONAL_PATTERN.match(number)


def test_formats_the_official_receipt_number_from_bureau_date_and_sequence() -> None:
    number = format_receipt_number("TKY", date(2025, 4, 2), 123)
    assert number == "TKY-20250402-000123" and RECEIPT_PATTERN.match(number)


@pytest.mark.parametrize(("bureau", "sequence"), [("tky", 1), ("T", 1), ("TKY", 0), ("TKY", 1_000_000)])
def test_refuses_to_format_a_receipt_number_from_bad_input(bureau: str, sequence: int) -> None:
    with pytest.raises(errors.InvalidReceiptNumberInput):
        format_receipt_number(bureau, date(2025, 4, 2), sequence)


def test_refuses_a_naive_clock() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2025, 6, 2, 10, 0))


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2010, 6, 2), date(2025, 6, 1), 14),
        (date(2010, 6, 2), date(2025, 6, 2), 15),
        (date(2008, 2, 29), date(2024, 2, 28), 15),
        (date(2008, 2, 29), date(2025, 3, 1), 17),
    ],
)
def test_counts_ages_in_full_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


def test_gives_every_error_type_a_code_messages_and_an_http_status() -> None:
    types = [
        t
        for _, t in inspect.getmembers(errors, inspect.isclass)
        if issubclass(t, errors.DomainError) and t is not errors.DomainError
    ]
    assert len(types) >= 7
    codes = [t.code for t in types]
    assert len(set(codes)) == len(codes)
    for t in types:
        assert t.code != errors.DomainError.code and "." in t.code
        assert 400 <= t.http_status <= 599


def test_lists_each_refusal_code_once() -> None:
    assert len(set(errors.REFUSAL_CODES)) == len(errors.REFUSAL_CODES)


def test_refuses_to_build_a_refusal_with_an_unregistered_code() -> None:
    with pytest.raises(ValueError, match="unregistered"):
        errors.refusal("made.up", "ja", "en")
