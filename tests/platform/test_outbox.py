"""The transactional outbox and its relay, on the real PostgreSQL and the real Kafka broker."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from shared.db import create_engine, session_factory
from shared.events import UserRegistered
from shared.messaging.outbox import OutboxRelay, add_event
from shared.messaging.tables import outbox_message
from shared.settings import KafkaSettings, MessagingSettings
from tests.support.apps import Infra, eventually
from tests.support.kafka import event_ids, has_ids, read_topic

pytestmark = pytest.mark.integration

TOPIC = UserRegistered.topic()
FAST = MessagingSettings(outbox_poll_interval_s=0.1, outbox_max_backoff_s=1.0)


def registered(user_id: uuid.UUID | None = None) -> UserRegistered:
    """Return a new UserRegistered event."""
    return UserRegistered(user_id=user_id or uuid.uuid4(), category="foreign_national", email="a@example.jp")


async def test_publishes_an_event_after_commit_and_never_after_rollback(infra: Infra) -> None:
    engine = create_engine(infra.db_url("identity"))
    sessions = session_factory(engine)
    relay = OutboxRelay(
        sessions, KafkaSettings(bootstrap_servers=infra.stack.kafka_bootstrap), client_id="t", settings=FAST
    )
    user = uuid.uuid4()
    rolled_back, committed = registered(user), registered(user)  # same key: same partition, in order
    relay.start()
    try:
        async with sessions() as session:
            transaction = await session.begin()
            await add_event(session, rolled_back)
            await transaction.rollback()
        async with sessions() as session, session.begin():
            await add_event(session, committed)
        records = await read_topic(
            infra.stack.kafka_bootstrap, TOPIC, until=has_ids({str(committed.event_id)})
        )
        ids = event_ids(records)
        assert str(committed.event_id) in ids
        assert str(rolled_back.event_id) not in ids
        record = next(r for r in records if str(committed.event_id) in r.value.decode())
        assert record.key == str(user).encode()
    finally:
        await relay.stop()
        await engine.dispose()


async def test_every_event_committed_while_the_broker_is_dead_is_published_after_it_restarts(
    infra: Infra,
) -> None:
    if infra.stack.external_kafka:
        pytest.fail(
            "this test kills the broker: run it with the session's own Kafka (unset RAS_TEST_KAFKA_BOOTSTRAP)"
        )
    engine = create_engine(infra.db_url("identity"))
    sessions = session_factory(engine)
    kafka = KafkaSettings(bootstrap_servers=infra.stack.kafka_bootstrap, request_timeout_ms=3000)
    relay = OutboxRelay(sessions, kafka, client_id="t-kill", settings=FAST)
    events = [registered() for _ in range(30)]
    relay.start()
    try:
        infra.stack.proc("kafka").stop(kill=True)  # kill -9
        for event in events:
            async with sessions() as session, session.begin():
                await add_event(session, event)

        async def failures_seen() -> bool:
            return relay.failures > 0

        await eventually(failures_seen, timeout=30)
        async with sessions() as session:
            unsent = await session.scalar(
                select(func.count()).where(
                    outbox_message.c.event_id.in_([e.event_id for e in events]),
                    outbox_message.c.sent_at.is_(None),
                )
            )
        assert unsent == len(events), "nothing can be published while the broker is dead"
        await asyncio.to_thread(infra.stack.start_kafka)

        async def all_sent() -> bool:
            async with sessions() as session:
                left = await session.scalar(
                    select(func.count()).where(
                        outbox_message.c.event_id.in_([e.event_id for e in events]),
                        outbox_message.c.sent_at.is_(None),
                    )
                )
            return left == 0

        await eventually(all_sent, timeout=90)
        wanted = {str(e.event_id) for e in events}
        records = await read_topic(infra.stack.kafka_bootstrap, TOPIC, until=has_ids(wanted), timeout=60)
        assert wanted <= set(event_ids(records))
    finally:
        await relay.stop()
        await engine.dispose()
        if infra.stack.proc("kafka").pid() is None:
            await asyncio.to_thread(infra.stack.start_kafka)


async def test_two_relays_on_one_database_publish_each_event_once(infra: Infra) -> None:
    engine = create_engine(infra.db_url("identity"))
    sessions = session_factory(engine)
    kafka = KafkaSettings(bootstrap_servers=infra.stack.kafka_bootstrap)
    relays = [OutboxRelay(sessions, kafka, client_id=f"replica-{i}", settings=FAST) for i in range(2)]
    events = [registered() for _ in range(200)]
    for relay in relays:
        relay.start()
    try:
        for chunk in range(0, len(events), 20):
            async with sessions() as session, session.begin():
                for event in events[chunk : chunk + 20]:
                    await add_event(session, event)
        wanted = {str(e.event_id) for e in events}
        records = await read_topic(infra.stack.kafka_bootstrap, TOPIC, until=has_ids(wanted), timeout=60)
        await asyncio.sleep(1.0)  # a second publication by the other replica would have arrived by now
        records = await read_topic(infra.stack.kafka_bootstrap, TOPIC, until=has_ids(wanted), timeout=60)
        counts = Counter(i for i in event_ids(records) if i in wanted)
        assert set(counts) == wanted
        assert max(counts.values()) == 1
    finally:
        for relay in relays:
            await relay.stop()
        await engine.dispose()


async def test_a_relay_that_stops_publishes_what_was_committed_before_it_stopped(infra: Infra) -> None:
    engine = create_engine(infra.db_url("identity"))
    sessions = session_factory(engine)
    relay = OutboxRelay(
        sessions,
        KafkaSettings(bootstrap_servers=infra.stack.kafka_bootstrap),
        client_id="t-drain",
        settings=MessagingSettings(outbox_poll_interval_s=3600),
    )
    event = registered()
    try:
        async with sessions() as session, session.begin():
            await add_event(session, event)
        await relay.stop()  # never started: only the shutdown drain can publish it
        records = await read_topic(infra.stack.kafka_bootstrap, TOPIC, until=has_ids({str(event.event_id)}))
        assert str(event.event_id) in event_ids(records)
    finally:
        await engine.dispose()
