"""The delivery log as a queue: one row per (event, template, recipient), sent by the delivery worker.

Enqueuing happens in the consumer's inbox transaction, so an event that arrives twice creates one row at most
(the idempotency key ``<event_id>:<template>:<recipient>`` is unique).

A row moves ``pending -> sending -> delivered | failed``. The worker claims one due row at a time in its own
committed transaction (``FOR UPDATE SKIP LOCKED``, so replicas share the work): the row becomes ``sending`` with a
lease (``next_attempt_at`` = now + lease) and a fresh claim token. Only then does the SMTP conversation start,
bounded by half the lease. The outcome is committed at once, together with email-delivered or email-failed in
the outbox, and only if the claim token still matches. A transient failure puts the row back to ``pending`` with
exponential backoff (kept in the database, so a restart loses nothing); a permanent one (5xx to the recipient or
the message, an invalid address) stops at once. When the server itself is unavailable (no connection, timeouts,
421) the row goes back to ``pending`` without ever failing for it, and the whole worker pauses with backoff
(capped at ``outage_backoff_max_s``) instead of taking the next mail: one probe at a time until the server answers
(docs/adr/0008).

A ``sending`` row whose lease ran out belongs to a worker that died mid-conversation. It is claimed again and
counted in ``in_doubt_sends``: if the death fell between the server's ``250`` and our commit the mail is sent a
second time, with the same ``Message-ID`` (see the service README, "Exactly once in effect").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.adapters.orm import email_delivery
from notifications.config import DeliverySettings, MailSettings
from notifications.service_layer.mails import PlannedMail
from notifications.service_layer.rendering import render
from shared.events import EmailDelivered, EmailFailed, Event
from shared.failures import is_transient
from shared.messaging.outbox import add_event

log = logging.getLogger(__name__)

RECORD_ATTEMPTS = 5
WIPED_BODY = "(removed after delivery: this mail held a secret)"
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+\.[^@\s<>()\[\],;:\"\\]+$")


class PermanentDeliveryError(Exception):
    """The SMTP server refused the message for good (5xx) or the address is invalid."""


class TransientDeliveryError(Exception):
    """The SMTP server answered 4xx or refused our own set-up: try again later (counts towards max_attempts)."""


class SmtpUnavailableError(TransientDeliveryError):
    """The SMTP server cannot be reached, drops the connection, times out or is closing (421).

    The worker pauses with backoff and the mail waits as long as the outage lasts: this never fails a mail.
    """


class MailSender(Protocol):
    """Port: hands one message to an SMTP server."""

    async def send(self, message: EmailMessage) -> None:
        """Send or raise PermanentDeliveryError / TransientDeliveryError."""


def idempotency_key(event_id: uuid.UUID, template: str, recipient: str) -> str:
    """Return the key that makes one event give at most one mail per recipient and template."""
    return f"{event_id}:{template}:{recipient.strip().lower()}"


def message_id_for(key: str, mail: MailSettings) -> str:
    """Return the stable Message-ID of a delivery key (the same on every attempt)."""
    return f"<{uuid.uuid5(uuid.NAMESPACE_URL, 'ras-mail:' + key)}@{mail.message_id_domain}>"


def valid_address(address: str) -> bool:
    """Return True when ``address`` is a plausible single mailbox (no display name, no header tricks)."""
    return len(address) <= 320 and _ADDRESS.fullmatch(address) is not None


async def enqueue(session: AsyncSession, *, source: Event, planned: PlannedMail, mail: MailSettings) -> bool:
    """Add a mail to the delivery queue unless this event already made it for this recipient and template."""
    rendered = render(planned.template, planned.locale, planned.context, mail)
    recipient = planned.recipient.strip()
    key = idempotency_key(source.event_id, planned.template, recipient)
    result = await session.execute(
        pg_insert(email_delivery)
        .values(
            id=uuid.uuid4(),
            idempotency_key=key,
            source_event_id=source.event_id,
            source_event_type=source.event_type,
            correlation_id=source.correlation_id or source.event_id,
            template=planned.template,
            recipient=recipient,
            recipient_role=planned.role,
            locale=planned.locale,
            application_id=planned.application_id,
            user_id=planned.user_id,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            sensitive=planned.sensitive,
            message_id=message_id_for(key, mail),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(email_delivery.c.id)
    )
    return result.first() is not None


def build_message(row: Any, mail: MailSettings) -> EmailMessage:
    """Build the MIME message of a delivery row: plain text with an HTML alternative."""
    if not valid_address(row.recipient):
        raise PermanentDeliveryError(f"invalid address: {row.recipient!r}")
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = row.recipient
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = formatdate(localtime=False)
    message["Auto-Submitted"] = "auto-generated"
    message["X-RAS-Template"] = row.template
    message["X-RAS-Delivery"] = str(row.id)
    message["X-RAS-Source-Event"] = str(row.source_event_id)
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    # Only after the body: set_content drops every Content-* header.
    message["Content-Language"] = row.locale or "ja, en"
    return message


def backoff(attempts: int, policy: DeliverySettings) -> timedelta:
    """Return the wait before the next attempt: exponential, capped, with up to 20% jitter."""
    base = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (1 + random.random() * 0.2))


class DeliveryWorker:
    """Claims due deliveries one at a time, sends up to ``concurrency`` at once, records each outcome."""

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
        self._outage_since: float | None = None
        self._outage_delay = 0.0
        self._paused_until = 0.0
        self._db_outage_since: float | None = None
        self._db_delay = 0.0

    def wake(self) -> None:
        """Look for due mail now."""
        self._wake.set()

    async def claim(self) -> Row[Any] | None:
        """Claim the most overdue row (pending and due, or sending with its lease run out) and commit the claim."""
        t = email_delivery.c
        due = (
            select(t.id)
            .where(t.status.in_(("pending", "sending")), t.next_attempt_at <= func.now())
            .order_by(t.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(email_delivery)
                .where(t.id == due)
                .values(
                    status="sending",
                    claim_token=uuid.uuid4(),
                    attempts=t.attempts + 1,
                    in_doubt_sends=t.in_doubt_sends + case((t.status == "sending", 1), else_=0),
                    last_attempt_at=func.now(),
                    next_attempt_at=func.now() + timedelta(seconds=self._policy.lease_s),
                )
                .returning(*t)
            )
            return result.first()

    async def send(self, row: Any) -> None:
        """Send one claimed row and record the outcome."""
        try:
            message = build_message(row, self._mail)
            async with asyncio.timeout(self._policy.send_deadline_s):
                await self._sender.send(message)
        except PermanentDeliveryError as exc:
            self._server_answered()
            await self._record(row, "failed", error=str(exc), permanent=True)
        except (SmtpUnavailableError, OSError, TimeoutError) as exc:
            self._server_unavailable(exc)
            await self._record(row, "unavailable", error=str(exc) or repr(exc), permanent=False)
        except TransientDeliveryError as exc:
            self._server_answered()
            await self._record(row, "retry", error=str(exc) or repr(exc), permanent=False)
        except Exception as exc:  # a bug must not lose the mail nor spin: back off like a transient failure
            log.exception("unexpected error sending delivery %s", row.id)
            await self._record(row, "retry", error=repr(exc), permanent=False)
        else:
            self._server_answered()
            await self._record(row, "delivered", error=None, permanent=False)

    def _server_unavailable(self, exc: BaseException) -> None:
        """Pause the worker: the next claim waits for the outage backoff (doubling, capped)."""
        now = time.monotonic()
        if self._outage_since is None:
            self._outage_since = now
            log.warning(
                "SMTP server unavailable (%r): delivery paused, mail waits and retries with backoff", exc
            )
        cap = self._policy.outage_backoff_max_s
        self._outage_delay = min(cap, max(self._policy.backoff_base_s, self._outage_delay * 2))
        self._paused_until = now + self._outage_delay * (1 + random.random() * 0.2)

    def _server_answered(self) -> None:
        if self._outage_since is not None:
            log.warning(
                "SMTP server answers again after %.1fs: delivery resumed",
                time.monotonic() - self._outage_since,
            )
        self._outage_since = None
        self._outage_delay = 0.0
        self._paused_until = 0.0

    async def _claim_failed(self, exc: Exception) -> None:
        """Back off after a failed claim: quietly while the database is away, loudly for anything else."""
        if not is_transient(exc):
            log.exception("claiming a delivery failed; retrying")
            await asyncio.sleep(self._policy.poll_interval_s)
            return
        if self._db_outage_since is None:
            self._db_outage_since = time.monotonic()
            log.warning("the database is unavailable (%r): delivery paused, retrying with backoff", exc)
        cap = self._policy.outage_backoff_max_s
        self._db_delay = min(cap, max(self._policy.poll_interval_s, self._db_delay * 2))
        await asyncio.sleep(self._db_delay)

    @property
    def paused(self) -> bool:
        """True while the SMTP server is unavailable and the worker waits before its next try."""
        return self._outage_since is not None

    async def _record(self, row: Any, outcome: str, *, error: str | None, permanent: bool) -> None:
        t = email_delivery.c
        common = {
            "delivery_id": row.id,
            "template": row.template,
            "recipient": row.recipient,
            "source_event_id": row.source_event_id,
            "correlation_id": row.correlation_id or row.source_event_id,
            "causation_id": row.source_event_id,
        }
        values: dict[str, Any] = {"last_error": error[:1000] if error else None, "claim_token": None}
        event: Event | None = None
        if outcome == "delivered":
            values |= {"status": "delivered", "delivered_at": func.now(), "permanent_failure": None}
            if row.sensitive:
                values |= {"body_text": WIPED_BODY, "body_html": None}
            event = EmailDelivered(**common, message_id=row.message_id)
        elif permanent or (outcome == "retry" and row.attempts >= self._policy.max_attempts):
            values |= {"status": "failed", "permanent_failure": permanent}
            event = EmailFailed(**common, error=(error or "")[:1000], permanent=permanent)
        elif outcome == "unavailable":
            # Not the mail's fault: the try is not counted, and the mail is due again when the pause ends.
            values |= {"status": "pending", "next_attempt_at": func.now(), "attempts": t.attempts - 1}
        else:
            values |= {
                "status": "pending",
                "next_attempt_at": func.now() + backoff(row.attempts, self._policy),
            }
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                async with self._sessions() as session, session.begin():
                    result = await session.execute(
                        update(email_delivery)
                        .where(t.id == row.id, t.claim_token == row.claim_token, t.status == "sending")
                        .values(**values)
                        .returning(t.id)
                    )
                    if result.first() is None:
                        log.warning("delivery %s was claimed again before its outcome was recorded", row.id)
                        return
                    if event is not None:
                        await add_event(session, event)
                break
            except (OSError, SQLAlchemyError):
                # After a successful send, every retry here narrows the window in which the lease could run
                # out and the mail go twice; after RECORD_ATTEMPTS the lease decides (see the module doc).
                if attempt == RECORD_ATTEMPTS:
                    raise
                log.warning("recording delivery %s failed; retrying", row.id, exc_info=True)
                await asyncio.sleep(0.2 * 2**attempt)
        if outcome != "delivered":
            log.info("delivery %s attempt %d: %s", row.id, row.attempts, error)

    async def run(self) -> None:
        """Deliver until cancelled: claim while a sending slot is free, else sleep until woken or polled."""
        slots = asyncio.Semaphore(self._policy.concurrency)
        in_flight: set[asyncio.Task[None]] = set()

        async def send_then_free(row: Any) -> None:
            try:
                await self.send(row)
            except Exception:
                log.exception("delivery %s: outcome not recorded; its lease will bring it back", row.id)
            finally:
                slots.release()

        try:
            while True:
                await slots.acquire()
                if (pause := self._paused_until - time.monotonic()) > 0:
                    slots.release()
                    await asyncio.sleep(min(pause, 1.0))
                    continue
                self._wake.clear()
                try:
                    row = await self.claim()
                except Exception as exc:
                    slots.release()
                    await self._claim_failed(exc)
                    continue
                if self._db_outage_since is not None:
                    log.warning(
                        "the database answers again after %.1fs: delivery resumed",
                        time.monotonic() - self._db_outage_since,
                    )
                    self._db_outage_since, self._db_delay = None, 0.0
                if row is None:
                    slots.release()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=self._policy.poll_interval_s)
                    continue
                task = asyncio.create_task(send_then_free(row))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                if self.paused:  # during an outage one probe at a time, until the server answers
                    await asyncio.wait({task})
        except asyncio.CancelledError:
            if in_flight:
                _, pending = await asyncio.wait(in_flight, timeout=self._policy.drain_s)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            raise
