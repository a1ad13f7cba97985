"""Outages of a consumer's own database and of the SMTP server: nothing is dead-lettered, no mail is lost or doubled.

PostgreSQL of the test session is killed with SIGKILL in the middle of a burst of application-submitted events and
started again; the notifications service runs in-process against the real broker, database and an SMTP server.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from notifications.adapters.orm import email_delivery
from notifications.config import DeliverySettings, NotificationsSettings, SmtpSettings
from notifications.main import create_app
from shared.events import ApplicationSubmitted, Recipient
from shared.messaging.dlq import lag, read_dead_letters
from shared.service import ServiceRuntime
from shared.settings import MessagingSettings
from tests.notifications.bus import publish
from tests.notifications.smtp_server import TestSmtpServer
from tests.support.apps import Infra, eventually, running
from tests.support.kafka import settle

pytestmark = pytest.mark.integration

TOPIC = ApplicationSubmitted.topic()


def burst(run: str, start: int, count: int) -> list[ApplicationSubmitted]:
    """Return ``count`` accepted submissions, each with one applicant whose address names the run."""
    return [
        ApplicationSubmitted(
            application_id=uuid.uuid4(),
            recipients=[Recipient(email=f"pg-{run}-{i}@example.jp", locale="ja")],
            provisional_receipt_number=f"P-{run}-{i}",
            procedures=["extension"],
            status_of_residence="student",
            filer_user_id=uuid.uuid4(),
            applicant_id=uuid.uuid4(),
            bureau="tokyo",
        )
        for i in range(start, start + count)
    ]


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
