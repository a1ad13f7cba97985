"""The password-expiry reminder job: publishes password-expiring exactly once per reminder (30 and 7 days before).

Sent reminders are recorded in ``password_reminder`` (key: account, password version, days before) in the same
transaction as the outbox row; ``INSERT … ON CONFLICT DO NOTHING`` makes a second run, or a second replica, publish
nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from identity.adapters.orm import password_reminder, user_account
from identity.bootstrap import IdentityServices
from identity.domain.password_expiry import due_reminder
from identity.service_layer.accounts import ACTIVE, locale_of
from shared.events import PasswordExpiring
from shared.messaging.outbox import add_event

log = logging.getLogger(__name__)


async def send_due_reminders(services: IdentityServices) -> int:
    """Publish every reminder that is due and not yet sent; return how many were published."""
    now = services.now()
    policy = services.expiry_policy
    earliest = max(policy.reminder_days)
    # Passwords set before this moment are within ``earliest`` days of expiry (or past it).
    cutoff = now + timedelta(days=earliest) - timedelta(days=366 * policy.validity_years)
    published = 0
    async with services.sessions() as session, session.begin():
        candidates = (
            await session.execute(
                select(
                    user_account.c.id,
                    user_account.c.email,
                    user_account.c.locale,
                    user_account.c.password_changed_at,
                ).where(
                    user_account.c.status == ACTIVE,
                    user_account.c.password_changed_at.is_not(None),
                    user_account.c.password_changed_at <= cutoff + timedelta(days=1),
                )
            )
        ).all()
        for account in candidates:
            sent = set(
                (
                    await session.execute(
                        select(password_reminder.c.days_before).where(
                            password_reminder.c.user_id == account.id,
                            password_reminder.c.password_changed_at == account.password_changed_at,
                        )
                    )
                ).scalars()
            )
            reminder = due_reminder(account.password_changed_at, now, already_sent=sent, policy=policy)
            if reminder is None:
                continue
            # Record this reminder and every earlier one (a missed earlier one is skipped for good).
            days = [d for d in policy.reminder_days if d >= reminder.days_before and d not in sent]
            inserted = await session.execute(
                pg_insert(password_reminder)
                .values(
                    [
                        {
                            "user_id": account.id,
                            "password_changed_at": account.password_changed_at,
                            "days_before": d,
                            "sent_at": now,
                        }
                        for d in days
                    ]
                )
                .on_conflict_do_nothing()
                .returning(password_reminder.c.days_before)
            )
            if reminder.days_before not in set(inserted.scalars()):
                continue  # another run recorded it first
            await add_event(
                session,
                PasswordExpiring(
                    user_id=account.id,
                    email=account.email,
                    locale=locale_of(account.locale),
                    expires_at=reminder.expires_at,
                    days_left=reminder.days_left(now),
                ),
            )
            published += 1
    return published


async def run_reminder_job(services: IdentityServices, interval_s: float) -> None:
    """Run :func:`send_due_reminders` every ``interval_s`` seconds until cancelled; errors are logged and retried."""
    while True:
        try:
            count = await send_due_reminders(services)
            if count:
                log.info("published %d password-expiry reminders", count)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("password-expiry reminder job failed; will retry")
        await asyncio.sleep(interval_s)
