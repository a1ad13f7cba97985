"""The delivery log as a queue: one row per (event, template, recipient), sent by the delivery worker.

Enqueuing happens in the consumer's inbox transaction, so an event that arrives twice creates one row at most
(the idempotency key is unique). The worker claims due rows with ``FOR UPDATE SKIP LOCKED``, hands each to the
SMTP server with a stable ``Message-ID`` derived from the row, and records the outcome together with the
email-delivered or email-failed event in the outbox. Transient failures back off exponentially (kept in the
database, so a restart loses nothing); permanent ones (5xx, invalid address) stop at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.adapters.orm import email_delivery
from notifications.config import DeliverySettings, MailSettings
from notifications.service_layer.rendering import render
from shared.events import EmailDelivered, EmailFailed, Event
from shared.messaging.outbox import add_event

log = logging.getLogger(__name__)


class PermanentDeliveryError(Exception):
    """The SMTP server refused the message for good (5xx or an invalid address)."""


class TransientDeliveryError(Exception):
    """The SMTP server could not be reached or answered 4xx: try again later."""


class MailSender(Protocol):
    """Port: hands one message to an SMTP server."""

    async def send(self, message: EmailMessage) -> None:
        """Send or raise PermanentDeliveryError / TransientDeliveryError."""


async def enqueue(
    session: AsyncSession,
    *,
    source: Event,
    template: str,
    recipient: str,
    locale: str | None,
    context: dict[str, Any],
    mail: MailSettings,
    application_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> bool:
    """Add a mail to the delivery queue unless this event already made it for this recipient and template."""
    rendered = render(template, locale, context, mail)
    delivery_id = uuid.uuid4()
    key = f"{source.event_id}:{template}:{recipient.lower()}"
    result = await session.execute(
        pg_insert(email_delivery)
        .values(
            id=delivery_id,
            idempotency_key=key,
            source_event_id=source.event_id,
            source_event_type=source.event_type,
            template=template,
            recipient=recipient,
            locale=locale,
            application_id=application_id,
            user_id=user_id,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            message_id=f"<{uuid.uuid5(uuid.NAMESPACE_URL, key)}@{mail.message_id_domain}>",
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(email_delivery.c.id)
    )
    return result.first() is not None


def build_message(row: Any, mail: MailSettings) -> EmailMessage:
    """Build the MIME message of a delivery row (plain text, with an HTML alternative when there is one)."""
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = row.recipient
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = formatdate(localtime=False)
    message["X-RAS-Template"] = row.template
    message["X-RAS-Source-Event"] = str(row.source_event_id)
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


def backoff(attempts: int, policy: DeliverySettings) -> timedelta:
    """Return the wait before the next attempt: exponential, capped."""
    return timedelta(seconds=min(policy.backoff_max_s, policy.backoff_base_s * 2 ** max(0, attempts - 1)))


class DeliveryWorker:
    """Sends due deliveries and records each outcome with its event."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: MailSender,
        *,
        mail: MailSettings,
        policy: DeliverySettings,
    ) -> None:
        self._sessions = sessions
        self._sender = sender
        self._mail = mail
        self._policy = policy
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due mail now."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """Send one batch of due mail; return how many rows were handled."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(email_delivery)
                    .where(
                        email_delivery.c.status == "pending",
                        email_delivery.c.next_attempt_at <= datetime.now(UTC),
                    )
                    .order_by(email_delivery.c.next_attempt_at)
                    .limit(self._policy.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await self._deliver(session, row)
            return len(rows)

    async def _deliver(self, session: AsyncSession, row: Any) -> None:
        attempts = row.attempts + 1
        common = {
            "delivery_id": row.id,
            "template": row.template,
            "recipient": row.recipient,
            "source_event_id": row.source_event_id,
            "correlation_id": row.source_event_id,
            "causation_id": row.source_event_id,
        }
        try:
            await self._sender.send(build_message(row, self._mail))
        except PermanentDeliveryError as exc:
            await self._finish(session, row.id, attempts, "failed", str(exc))
            await add_event(session, EmailFailed(**common, error=str(exc)[:1000], permanent=True))
            return
        except (TransientDeliveryError, OSError, TimeoutError) as exc:
            if attempts >= self._policy.max_attempts:
                await self._finish(session, row.id, attempts, "failed", str(exc))
                await add_event(session, EmailFailed(**common, error=str(exc)[:1000], permanent=False))
            else:
                await session.execute(
                    update(email_delivery)
                    .where(email_delivery.c.id == row.id)
                    .values(
                        attempts=attempts,
                        last_error=str(exc)[:1000],
                        next_attempt_at=datetime.now(UTC) + backoff(attempts, self._policy),
                    )
                )
            return
        await self._finish(session, row.id, attempts, "delivered", None)
        await add_event(session, EmailDelivered(**common, message_id=row.message_id))

    @staticmethod
    async def _finish(
        session: AsyncSession, delivery_id: uuid.UUID, attempts: int, status: str, error: str | None
    ) -> None:
        values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": error}
        if status == "delivered":
            values["delivered_at"] = datetime.now(UTC)
        await session.execute(
            update(email_delivery).where(email_delivery.c.id == delivery_id).values(**values)
        )

    async def run(self) -> None:
        """Deliver until cancelled; sleep until woken or the poll interval passes."""
        while True:
            try:
                if await self.deliver_due():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery sweep failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._policy.poll_interval_s)
