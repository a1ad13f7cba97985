"""Time in Japan: an injected clock, today's date in Asia/Tokyo, and ages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

JAPAN = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    """Something that tells the current time as an aware datetime."""

    def now(self) -> datetime:
        """Return the current time (timezone-aware)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that tells a set time until moved; for tests and replays."""

    def __init__(self, at: datetime) -> None:
        """Start at an aware datetime."""
        self._at = _aware(at)

    def now(self) -> datetime:
        """Return the set time."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to another aware datetime."""
        self._at = _aware(at)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the clock needs a timezone-aware datetime")
    return at


def japan_today(clock: Clock) -> date:
    """Return today's date in Japan (Asia/Tokyo) by the given clock."""
    return _aware(clock.now()).astimezone(JAPAN).date()


def age_on(date_of_birth: date, day: date) -> int:
    """Return the age in full years on a day (a 29 February birthday counts from 1 March in other years)."""
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years
