"""Receipt numbers: the provisional one given at submission and the official one assigned later by a job.

Formats (our own; the real system's are not public):

- provisional receipt number (仮受付番号): ``T`` + the Japan date of submission ``yyyymmdd`` + a 6-digit
  sequence within that day, e.g. ``T20250401000042``. The sequence comes from the database (one per day).
- official receipt number (受付番号): ``<bureau code>-<yyyymmdd>-<6-digit sequence>``, e.g.
  ``TKY-20250402-000123``; the bureau code is 2 to 6 capital letters or digits naming the regional bureau.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Protocol

from applications.domain.errors import InvalidReceiptNumberInput

PROVISIONAL_PREFIX = "T"
PROVISIONAL_PATTERN = re.compile(r"^T\d{8}\d{6}$")
RECEIPT_PATTERN = re.compile(r"^[A-Z0-9]{2,6}-\d{8}-\d{6}$")
_BUREAU = re.compile(r"^[A-Z0-9]{2,6}$")
MAX_SEQUENCE = 999_999


class ProvisionalSequence(Protocol):
    """Hands out the next provisional sequence number of a day (1, 2, …), never twice."""

    def next_value(self, day: date) -> int:
        """Return the next sequence number for ``day``."""
        ...


def _check_sequence(sequence: int) -> None:
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise InvalidReceiptNumberInput(
            f"連番は1〜{MAX_SEQUENCE}の範囲でなければなりません（{sequence}）。",
            f"The sequence must be from 1 to {MAX_SEQUENCE} (got {sequence}).",
        )


def format_provisional_receipt_number(day: date, sequence: int) -> str:
    """Return the provisional receipt number ``T<yyyymmdd><6 digits>`` for a Japan date and a daily sequence."""
    _check_sequence(sequence)
    return f"{PROVISIONAL_PREFIX}{day:%Y%m%d}{sequence:06d}"


def format_receipt_number(bureau_code: str, day: date, sequence: int) -> str:
    """Return the official receipt number ``<bureau>-<yyyymmdd>-<6 digits>``."""
    if not _BUREAU.match(bureau_code):
        raise InvalidReceiptNumberInput(
            f"官署コードは英大文字・数字2〜6文字です（{bureau_code!r}）。",
            f"The bureau code must be 2 to 6 capital letters or digits (got {bureau_code!r}).",
        )
    _check_sequence(sequence)
    return f"{bureau_code}-{day:%Y%m%d}-{sequence:06d}"
