"""An SMTP outage in the middle of a burst: delivery pauses, mail waits in the database and, once the server is
back, every mail arrives exactly once — however long the outage, it never counts towards a mail's attempts, and
nothing goes to a dead-letter topic."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from notifications.adapters.orm import email_delivery
from notifications.config import DeliverySettings, NotificationsSettings, SmtpSettings
from notifications.main import create_app
from notifications.service_layer.deliveries import DeliveryWorker
from shared.events import ApplicationSubmitted, EmailDelivered, EmailFailed, Recipient
from shared.messaging.dlq import read_dead_letters
from shared.service import ServiceRuntime
from tests.notifications.bus import publish
from tests.notifications.smtp_server import TestSmtpServer
from tests.support.apps import Infra, eventually, running
from tests.support.kafka import settle

pytestmark = pytest.mark.integration


def burst(run: str, start: int, count: int) -> list[ApplicationSubmitted]:
    """Return ``count`` receipts, each to one applicant address that names the run."""
    return [
        ApplicationSubmitted(
            application_id=uuid.uuid4(),
            recipients=[Recipient(email=f"outage-{run}-{i}@example.jp", locale="ja")],
            provisional_receipt_number=f"P-{run}-{i}",
            procedures=["extension"],
            status_of_residence="student",
            filer_user_id=uuid.uuid4(),
            applicant_id=uuid.uuid4(),
            bureau="tokyo",
        )
        for i in range(start, start + count)
    ]


async def test_every_mail_of_a_burst_is_delivered_exactly_once_after_the_smtp_server_comes_back(
    infra: Infra,
) -> None:
    run = uuid.uuid4().hex[:8]
    server = TestSmtpServer()
    server.start()
    app = create_app(
        NotificationsSettings(
            **infra.common("notifications"),
            smtp=SmtpSettings(host="127.0.0.1", port=server.port, timeout_s=2),
            delivery=DeliverySettings(
                poll_interval_s=0.2,
                backoff_base_s=0.2,
                backoff_max_s=1.0,
                outage_backoff_max_s=0.5,
                concurrency=4,
                max_attempts=2,  # an outage counted as failed attempts would fail most of the burst for good
            ),
        )
    )
    runtime: ServiceRuntime = app.state.runtime
    worker: DeliveryWorker = app.state.delivery_worker
    first, second = burst(run, 0, 20), burst(run, 20, 20)
    ids = {e.application_id for e in first + second}

    def received() -> int:
        return sum(1 for m in server.mailbox.messages if run in str(m["To"]))

    try:
        async with running(app):
            await publish(infra.stack.kafka_bootstrap, *first)
            await eventually(lambda: received() >= 1, timeout=60)
            await asyncio.to_thread(server.stop)
            await publish(infra.stack.kafka_bootstrap, *second)

            async def waiting() -> bool:
                async with runtime.sessions() as session:
                    rows = (
                        await session.execute(
                            select(email_delivery.c.id).where(
                                email_delivery.c.application_id.in_(ids),
                                email_delivery.c.status == "pending",
                                email_delivery.c.last_error.is_not(None),
                            )
                        )
                    ).all()
                return len(rows) >= 5

            await eventually(waiting, timeout=60)
            assert worker.paused, "delivery pauses while the server is away"
            await settle(3)  # many probes fail meanwhile; none may fail a mail
            assert received() < 40, "the outage must hit the burst"
            await asyncio.to_thread(server.start)
            await eventually(lambda: received() >= 40, timeout=90)
            await settle(2)

            async with runtime.sessions() as session:
                rows = (
                    await session.execute(
                        select(email_delivery).where(email_delivery.c.application_id.in_(ids))
                    )
                ).all()
    finally:
        server.stop()

    mine = [m for m in server.mailbox.messages if run in str(m["To"])]
    assert len(mine) == 40
    assert sorted(str(m["To"]) for m in mine) == sorted(f"outage-{run}-{i}@example.jp" for i in range(40))
    assert len({m["Message-ID"] for m in mine}) == 40
    assert len(rows) == 40 and {r.status for r in rows} == {"delivered"}
    assert all(r.attempts <= 2 for r in rows), "the outage did not count towards any mail's attempts"
    assert not worker.paused, "delivery resumed by itself"
    dead = [
        d
        for topic in (ApplicationSubmitted.topic(), EmailDelivered.topic(), EmailFailed.topic())
        for d in await read_dead_letters(infra.stack.kafka_bootstrap, topic)
        if run.encode() in d.value
    ]
    assert dead == [], "nothing was dead-lettered"
    assert {m["Message-ID"] for m in mine} == {r.message_id for r in rows}
