"""Password expiry (1 year after it was set) and the reminder schedule (30 and 7 days before) *(policy)*."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "DEFAULT_PASSWORD_EXPIRY_POLICY",
    "PasswordExpiryPolicy",
    "PasswordReminder",
    "due_reminder",
    "is_password_expired",
    "password_expires_at",
    "reminder_schedule",
]


@dataclass(frozen=True)
class PasswordExpiryPolicy:
    """How long a password is valid and how many days before expiry reminders go out *(policy)*."""

    validity_years: int = 1
    reminder_days: tuple[int, ...] = (30, 7)


DEFAULT_PASSWORD_EXPIRY_POLICY = PasswordExpiryPolicy()


@dataclass(frozen=True)
class PasswordReminder:
    """One reminder: how many days before expiry, when to send it, and the expiry it announces."""

    days_before: int
    send_at: datetime
    expires_at: datetime

    def days_left(self, now: datetime) -> int:
        """Return the whole days left until expiry at ``now`` (rounded up)."""
        return max(math.ceil((self.expires_at - now) / timedelta(days=1)), 0)


def password_expires_at(
    changed_at: datetime, policy: PasswordExpiryPolicy = DEFAULT_PASSWORD_EXPIRY_POLICY
) -> datetime:
    """Return when a password set at ``changed_at`` expires: the same calendar moment years later (29 Feb → 28 Feb)."""
    year = changed_at.year + policy.validity_years
    try:
        return changed_at.replace(year=year)
    except ValueError:
        return changed_at.replace(year=year, day=28)


def is_password_expired(
    changed_at: datetime, now: datetime, policy: PasswordExpiryPolicy = DEFAULT_PASSWORD_EXPIRY_POLICY
) -> bool:
    """Return whether the password has expired at ``now``."""
    return now >= password_expires_at(changed_at, policy)


def reminder_schedule(
    changed_at: datetime, policy: PasswordExpiryPolicy = DEFAULT_PASSWORD_EXPIRY_POLICY
) -> list[PasswordReminder]:
    """Return the reminders for a password, earliest first."""
    expires = password_expires_at(changed_at, policy)
    return [
        PasswordReminder(days, expires - timedelta(days=days), expires)
        for days in sorted(policy.reminder_days, reverse=True)
    ]


def due_reminder(
    changed_at: datetime,
    now: datetime,
    *,
    already_sent: Collection[int] = (),
    policy: PasswordExpiryPolicy = DEFAULT_PASSWORD_EXPIRY_POLICY,
) -> PasswordReminder | None:
    """Return the most urgent reminder due and not yet sent (missed earlier ones are skipped), or ``None``.

    Record its ``days_before`` (and those of every earlier reminder) as sent once it goes out.
    """
    due = [
        r
        for r in reminder_schedule(changed_at, policy)
        if r.send_at <= now < r.expires_at and r.days_before not in already_sent
    ]
    if not due:
        return None
    most_urgent = due[-1]
    if any(days <= most_urgent.days_before for days in already_sent):
        return None
    return most_urgent
