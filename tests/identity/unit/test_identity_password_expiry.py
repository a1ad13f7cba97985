"""Passwords expire after a year; reminders go out 30 and 7 days before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.password_expiry import (
    due_reminder,
    is_password_expired,
    password_expires_at,
    reminder_schedule,
)

pytestmark = pytest.mark.unit

SET_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EXPIRES = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_expires_one_calendar_year_later() -> None:
    assert password_expires_at(SET_AT) == EXPIRES
    assert not is_password_expired(SET_AT, EXPIRES - timedelta(seconds=1))
    assert is_password_expired(SET_AT, EXPIRES)


def test_a_password_set_on_29_february_expires_on_28_february() -> None:
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert password_expires_at(leap) == datetime(2029, 2, 28, 12, 0, tzinfo=UTC)


def test_reminders_30_and_7_days_before() -> None:
    schedule = reminder_schedule(SET_AT)
    assert [(r.days_before, r.send_at) for r in schedule] == [
        (30, EXPIRES - timedelta(days=30)),
        (7, EXPIRES - timedelta(days=7)),
    ]


def test_no_reminder_is_due_early() -> None:
    assert due_reminder(SET_AT, EXPIRES - timedelta(days=31)) is None


def test_the_30_day_reminder_is_due_then_the_7_day_one() -> None:
    first = due_reminder(SET_AT, EXPIRES - timedelta(days=20))
    assert first is not None
    assert first.days_before == 30
    assert first.days_left(EXPIRES - timedelta(days=20)) == 20
    assert due_reminder(SET_AT, EXPIRES - timedelta(days=20), already_sent={30}) is None
    second = due_reminder(SET_AT, EXPIRES - timedelta(days=6), already_sent={30})
    assert second is not None
    assert second.days_before == 7


def test_a_missed_30_day_reminder_is_skipped_for_the_7_day_one() -> None:
    due = due_reminder(SET_AT, EXPIRES - timedelta(days=5))
    assert due is not None
    assert due.days_before == 7
    assert due_reminder(SET_AT, EXPIRES - timedelta(days=5), already_sent={7}) is None


def test_no_reminder_after_expiry() -> None:
    assert due_reminder(SET_AT, EXPIRES + timedelta(days=1)) is None
