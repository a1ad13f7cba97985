"""Outages of a consumer's own database and of the SMTP server: nothing is dead-lettered, no mail is lost or doubled.

The test session's PostgreSQL, or its SMTP catcher, is killed with SIGKILL in the middle of a burst of
application-submitted events and started again; the notifications service runs in-process against the real
broker, database and SMTP server.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from notifications.adapters.orm import email_delivery
from notifications.config import DeliverySettings, NotificationsSettings, SmtpSettings
from notifications.entrypoints.consumers import CONSUMER
from notifications.main import create_app
from notifications.service_layer.deliveries import DeliveryWorker
from notifications.service_layer.mails import consumed_events
from shared.events import ApplicationSubmitted, EmailDelivered, EmailFailed, Recipient
from shared.messaging.dlq import lag, read_dead_letters
from shared.service import ServiceRuntime
from shared.settings import MessagingSettings
from tests.notifications.bus import publish
from tests.notifications.maildir import count_containing, mails_containing
from tests.notifications.smtp_server import TestSmtpServer
from tests.support.apps import Infra, eventually, running
from tests.support.kafka import settle

pytestmark = pytest.mark.integration

TOPIC = ApplicationSubmitted.topic()


def burst(run: str, start: int, count: int, *, prefix: str = "pg") -> list[ApplicationSubmitted]:
    """Return ``count`` accepted submissions, each with one applicant whose address names the run."""
    return [
        ApplicationSubmitted(
            application_id=uuid.uuid4(),
            recipients=[Recipient(email=f"{prefix}-{run}-{i}@example.jp", locale="ja")],
            provisional_receipt_number=f"P-{run}-{i}",
            procedures=["extension"],
            status_of_residence="student",
            filer_user_id=uuid.uuid4(),
            applicant_id=uuid.uuid4(),
            bureau="tokyo",
        )
        for i in range(start, start + count)
    ]


async def drained(infra: Infra, runtime: ServiceRuntime) -> None:
    """Wait until the running notifications service has handled every event already on its topics and sent every
    queued mail: Kafka keeps its data between sessions, so events of earlier tests may still wait for the
    ``notifications`` group, and the outage must hit this test's burst, not that backlog."""

    async def nothing_left() -> bool:
        for event_type in consumed_events():
            if sum((await lag(infra.stack.kafka_bootstrap, event_type.topic(), CONSUMER)).values()):
                return False
        async with runtime.sessions() as session:
            waiting = await session.scalar(
                select(func.count()).where(email_delivery.c.status.in_(("pending", "sending")))
            )
        return waiting == 0

    await eventually(nothing_left, timeout=240, interval=1)


@pytest.fixture
def postgres_back(infra: Infra) -> Iterator[None]:
    """Whatever the test does to PostgreSQL, the session's server is running again afterwards."""
    if infra.stack.external_postgres:
        pytest.fail(
            "this test kills PostgreSQL: run it with the session's own (unset RAS_TEST_POSTGRES_PORT)"
        )
    try:
        yield
    finally:
        if infra.stack.proc("postgres").pid() is None:
            infra.stack.start_postgres()


class Remember(logging.Handler):
    """Keeps the messages of one logger (the services replace the root logger's handlers, so caplog sees none)."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []
        self.logger = logging.getLogger(name)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message."""
        self.messages.append(record.getMessage())

    def __enter__(self) -> Remember:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)

    def said(self, words: str) -> bool:
        """Tell whether any message contains ``words``."""
        return any(words in m for m in self.messages)


@pytest.mark.timeout(600)  # the backlog of earlier sessions may have to drain first
async def test_a_database_killed_mid_burst_dead_letters_nothing_and_every_receipt_arrives_once(
    infra: Infra, postgres_back: None
) -> None:
    run = uuid.uuid4().hex[:8]
    server = TestSmtpServer()
    server.start()
    common = infra.common("notifications") | {
        "messaging": MessagingSettings(
            outbox_poll_interval_s=0.2,
            outbox_max_backoff_s=1.0,
            consumer_backoff_s=0.05,
            consumer_transient_backoff_max_s=1.0,
            consumer_hold_s=3.0,  # short, so that a held message also goes back to Kafka and is fetched again
        )
    }
    app = create_app(
        NotificationsSettings(
            **common,
            smtp=SmtpSettings(host="127.0.0.1", port=server.port, timeout_s=2),
            delivery=DeliverySettings(
                poll_interval_s=0.2, backoff_base_s=0.2, backoff_max_s=1.0, concurrency=2, lease_s=4
            ),
        )
    )
    runtime: ServiceRuntime = app.state.runtime
    first, second = burst(run, 0, 40), burst(run, 40, 20)
    ids = [e.application_id for e in first + second]

    def received() -> int:
        return sum(1 for m in server.mailbox.messages if run in str(m["To"]))

    consumer_log = Remember("shared.messaging.consumer")
    try:
        with consumer_log:
            async with running(app) as client:
                await drained(infra, runtime)
                await publish(infra.stack.kafka_bootstrap, *first)
                await eventually(lambda: received() >= 3, timeout=90, interval=0.02)
                await asyncio.to_thread(infra.stack.proc("postgres").stop, kill=True)  # kill -9
                assert received() < 60, "the outage must hit the burst"
                await publish(infra.stack.kafka_bootstrap, *second)
                await eventually(lambda: consumer_log.said("paused"), timeout=60)
                down = await client.get("/ready")
                assert down.status_code == 503 and down.json()["checks"]["database"].startswith("error")
                await settle(5)  # the database stays away while the consumer holds and retries
                await asyncio.to_thread(infra.stack.start_postgres)
                await eventually(lambda: received() >= 60, timeout=120)

                async def all_recorded() -> list[Any] | None:
                    async with runtime.sessions() as session:
                        rows = (
                            await session.execute(
                                select(email_delivery).where(email_delivery.c.application_id.in_(ids))
                            )
                        ).all()
                    done = len(rows) == 60 and all(r.status == "delivered" for r in rows)
                    return list(rows) if done else None

                rows = await eventually(all_recorded, timeout=60)

                async def caught_up() -> bool:
                    behind = await lag(infra.stack.kafka_bootstrap, TOPIC, "notifications")
                    return sum(behind.values()) == 0

                await eventually(caught_up, timeout=60)  # every offset committed once handled
                await settle(1)
    finally:
        server.stop()

    assert consumer_log.said("resumed"), "the consumer came back by itself"
    mine = [m for m in server.mailbox.messages if run in str(m["To"])]
    expected = {f"pg-{run}-{i}@example.jp" for i in range(60)}
    assert {str(m["To"]) for m in mine} == expected, "every accepted submission got its receipt"
    per_recipient = {to: {m["Message-ID"] for m in mine if str(m["To"]) == to} for to in expected}
    assert all(len(mids) == 1 for mids in per_recipient.values()), "no one got two different mails"
    copies = len(mine) - 60
    assert (
        0 <= copies <= sum(r.in_doubt_sends for r in rows)
    )  # only a send in flight when the DB died repeats
    dead = [d for d in await read_dead_letters(infra.stack.kafka_bootstrap, TOPIC) if run.encode() in d.value]
    assert dead == [], "nothing was dead-lettered"


async def test_a_request_while_the_database_is_down_answers_503_with_retry_after_in_japanese_and_english(
    infra: Infra, postgres_back: None
) -> None:
    server = TestSmtpServer()
    app = create_app(
        NotificationsSettings(
            **infra.common("notifications"), smtp=SmtpSettings(host="127.0.0.1", port=server.port)
        )
    )
    async with running(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await asyncio.to_thread(infra.stack.proc("postgres").stop, kill=True)  # kill -9
            try:
                answer = await client.get(
                    f"/api/notifications/deliveries/{uuid.uuid4()}", headers=operator(infra)
                )
                ready = await client.get("/ready")
            finally:
                await asyncio.to_thread(infra.stack.start_postgres)

            async def ready_again() -> bool:
                return (await client.get("/ready")).status_code == 200

            await eventually(ready_again, timeout=30)
            after = await client.get(f"/api/notifications/deliveries/{uuid.uuid4()}", headers=operator(infra))
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"].isdigit()
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == "service.unavailable"
    assert "お試しください" in body["message_ja"] and "try again" in body["message_en"]
    assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
    assert after.status_code == 404, "the service answers by itself once the database is back"


def operator(infra: Infra) -> dict[str, str]:
    """Return the Authorization header of an operator, signed with the session's key."""
    from shared.auth import Principal, TokenSigner

    token = TokenSigner(infra.private_key).sign(
        Principal(user_id=uuid.uuid4(), roles=frozenset({"operator"}), bureau="tokyo")
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def smtp_back(infra: Infra) -> Iterator[None]:
    """Whatever the test does to the session's SMTP catcher, it runs again afterwards."""
    if infra.stack.external_smtp:
        pytest.fail(
            "this test kills the SMTP server: run it with the session's own (unset RAS_TEST_SMTP_PORT)"
        )
    try:
        yield
    finally:
        if infra.stack.proc("smtp").pid() is None:
            infra.stack.start_smtp()


@pytest.mark.timeout(600)  # the backlog of earlier sessions may have to drain first
async def test_an_smtp_server_killed_mid_burst_loses_no_mail_fails_none_and_dead_letters_nothing(
    infra: Infra, smtp_back: None
) -> None:
    run = uuid.uuid4().hex[:8]
    mail_dir = infra.stack.mail_dir
    app = create_app(
        NotificationsSettings(
            **infra.common("notifications"),
            smtp=SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp, timeout_s=2),
            delivery=DeliverySettings(
                poll_interval_s=0.2,
                backoff_base_s=0.2,
                backoff_max_s=1.0,
                outage_backoff_max_s=1.0,
                concurrency=2,
                lease_s=4,
                max_attempts=2,  # were the outage counted, most of the burst would fail for good
            ),
        )
    )
    runtime: ServiceRuntime = app.state.runtime
    worker: DeliveryWorker = app.state.delivery_worker
    events = burst(run, 0, 50, prefix="smtp")
    first, second = events[:30], events[30:]
    ids = [e.application_id for e in events]
    async with running(app):
        await drained(infra, runtime)
        await publish(infra.stack.kafka_bootstrap, *first)
        await eventually(lambda: count_containing(mail_dir, run) >= 3, timeout=90, interval=0.02)
        await asyncio.to_thread(infra.stack.proc("smtp").stop, kill=True)  # kill -9
        assert count_containing(mail_dir, run) < 50, "the outage must hit the burst"
        await publish(infra.stack.kafka_bootstrap, *second)
        await eventually(lambda: worker.paused, timeout=60)
        await settle(4)  # many probes fail meanwhile; none may fail a mail
        await asyncio.to_thread(infra.stack.start_smtp)

        async def all_delivered() -> list[Any] | None:
            async with runtime.sessions() as session:
                rows = (
                    await session.execute(
                        select(email_delivery).where(email_delivery.c.application_id.in_(ids))
                    )
                ).all()
            return list(rows) if len(rows) == 50 and all(r.status == "delivered" for r in rows) else None

        rows = await eventually(all_delivered, timeout=120)
    mails = mails_containing(mail_dir, run)
    expected = {f"smtp-{run}-{i}@example.jp" for i in range(50)}
    assert {str(m["To"]) for m in mails} == expected, "every accepted submission got its receipt"
    per_recipient = {to: {m["Message-ID"] for m in mails if str(m["To"]) == to} for to in expected}
    assert all(len(mids) == 1 for mids in per_recipient.values()), "no one got two different mails"
    # A copy (same Message-ID) can only come from a send in flight when the server died after keeping the mail
    # but before its 250 reached us: at most one per sending slot.
    assert 0 <= len(mails) - 50 <= 2
    assert all(r.attempts <= 2 for r in rows), "the outage did not count towards any mail's attempts"
    dead = [
        d
        for topic in (TOPIC, EmailDelivered.topic(), EmailFailed.topic())
        for d in await read_dead_letters(infra.stack.kafka_bootstrap, topic)
        if run.encode() in d.value
    ]
    assert dead == [], "nothing was dead-lettered"
