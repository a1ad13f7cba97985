"""Idempotent consumers and dead letters, on the real broker and database."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import create_engine, session_factory
from shared.events import UserRegistered
from shared.messaging.consumer import subscribe_event
from shared.messaging.dlq import DeadLetter, read_dead_letters, replay
from shared.messaging.tables import inbox_message
from shared.settings import MessagingSettings
from tests.support.apps import Infra, eventually
from tests.support.kafka import header, produce, read_topic

pytestmark = pytest.mark.integration

TOPIC = UserRegistered.topic()


def registered(user_id: uuid.UUID | None = None, email: str = "a@example.jp") -> UserRegistered:
    """Return a new UserRegistered event."""
    return UserRegistered(user_id=user_id or uuid.uuid4(), category="foreign_national", email=email)


async def test_a_redelivered_event_has_no_second_effect_and_a_poison_message_goes_to_the_dead_letter_topic(
    infra: Infra,
) -> None:
    engine = create_engine(infra.db_url("identity"))
    sessions = session_factory(engine)
    consumer = f"test-consumer-{uuid.uuid4().hex[:8]}"
    async with sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE IF NOT EXISTS test_effect (event_id uuid, consumer text)"))
    poison_user = uuid.uuid4()
    handled: list[uuid.UUID] = []

    async def handler(session: AsyncSession, event: UserRegistered) -> None:
        handled.append(event.event_id)
        if event.user_id == poison_user:
            raise RuntimeError("this handler cannot cope with this event")
        await session.execute(
            text("INSERT INTO test_effect VALUES (:e, :c)"), {"e": event.event_id, "c": consumer}
        )

    broker = KafkaBroker(infra.stack.kafka_bootstrap, allow_auto_create_topics=False)
    subscribe_event(
        broker,
        UserRegistered,
        handler,
        consumer=consumer,
        sessions=sessions,
        settings=MessagingSettings(consumer_max_attempts=3, consumer_backoff_s=0.01),
    )
    key = uuid.uuid4()
    first, failing, after = registered(key), registered(poison_user), registered(key)
    bootstrap = infra.stack.kafka_bootstrap
    await broker.start()
    try:
        await produce(bootstrap, TOPIC, first.model_dump_json().encode(), key=str(key).encode())
        await produce(bootstrap, TOPIC, first.model_dump_json().encode(), key=str(key).encode())  # redelivery
        await produce(bootstrap, TOPIC, b"{not json", key=str(key).encode())  # unparseable
        await produce(
            bootstrap, TOPIC, failing.model_dump_json().encode(), key=str(key).encode()
        )  # handler fails
        await produce(bootstrap, TOPIC, after.model_dump_json().encode(), key=str(key).encode())

        async def effects() -> list[uuid.UUID]:
            async with sessions() as session:
                rows = await session.execute(
                    text("SELECT event_id FROM test_effect WHERE consumer = :c"), {"c": consumer}
                )
                return [r[0] for r in rows]

        async def after_done() -> bool:
            return after.event_id in await effects()

        await eventually(after_done, timeout=60)
        done = await effects()
        assert done.count(first.event_id) == 1, "the redelivered event had a second effect"
        assert failing.event_id not in done
        attempts = handled.count(failing.event_id)
        assert attempts >= 3, "the failing handler is retried before it gives up"
        assert attempts % 3 == 0, "each delivery is tried exactly consumer_max_attempts times"
        async with sessions() as session:
            inbox = await session.scalar(
                select(func.count()).where(
                    inbox_message.c.consumer == consumer, inbox_message.c.event_id == first.event_id
                )
            )
        assert inbox == 1

        def both_dead(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
            mine = [r for r in records if header(r, "x-dlq-consumer") == consumer]
            return any(r.value == b"{not json" for r in mine) and any(
                str(failing.event_id).encode() in (r.value or b"") for r in mine
            )

        records = await read_topic(bootstrap, f"{TOPIC}.dlq", until=both_dead)
        dead = [r for r in records if header(r, "x-dlq-consumer") == consumer]
        unparseable = next(r for r in dead if r.value == b"{not json")
        assert (header(unparseable, "x-dlq-error") or "").startswith("unparseable")
        gave_up = next(r for r in dead if r.value != b"{not json")
        assert json.loads(gave_up.value or b"")["event_id"] == str(failing.event_id)
        assert "cannot cope" in (header(gave_up, "x-dlq-error") or "")
        assert header(gave_up, "x-dlq-topic") == TOPIC
        assert all(r.value in (b"{not json", gave_up.value) for r in dead), (
            "only the two poison messages are dead"
        )
    finally:
        await broker.stop()
        await engine.dispose()
        await asyncio.sleep(0)


async def test_an_operator_replays_dead_letters_and_the_fixed_consumer_handles_them_once(
    infra: Infra,
) -> None:
    engine = create_engine(infra.db_url("identity"))
    sessions = session_factory(engine)
    consumer = f"test-replay-{uuid.uuid4().hex[:8]}"
    async with sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE IF NOT EXISTS test_effect (event_id uuid, consumer text)"))
    event = registered()
    broken = {event.event_id}  # a new group reads the topic from the start: break only this event

    async def handler(session: AsyncSession, event: UserRegistered) -> None:
        if event.event_id in broken:
            raise RuntimeError("a bug, fixed later")
        await session.execute(
            text("INSERT INTO test_effect VALUES (:e, :c)"), {"e": event.event_id, "c": consumer}
        )

    broker = KafkaBroker(infra.stack.kafka_bootstrap, allow_auto_create_topics=False)
    subscribe_event(
        broker,
        UserRegistered,
        handler,
        consumer=consumer,
        sessions=sessions,
        settings=MessagingSettings(consumer_max_attempts=2, consumer_backoff_s=0.01),
    )
    bootstrap = infra.stack.kafka_bootstrap
    await broker.start()
    try:
        await produce(bootstrap, TOPIC, event.model_dump_json().encode(), key=event.key().encode())

        async def dead() -> list[DeadLetter]:
            letters = await read_dead_letters(bootstrap, TOPIC)
            return [d for d in letters if d.consumer == consumer and str(event.event_id).encode() in d.value]

        letters = await eventually(dead, timeout=60)
        assert json.loads(letters[0].value)["event_id"] == str(event.event_id)
        assert "a bug" in letters[0].error
        broken.clear()
        assert await replay(bootstrap, TOPIC, consumer=consumer) >= 1

        async def effects() -> list[uuid.UUID]:
            async with sessions() as session:
                rows = await session.execute(
                    text("SELECT event_id FROM test_effect WHERE consumer = :c"), {"c": consumer}
                )
                return [r[0] for r in rows]

        async def replayed() -> bool:
            return event.event_id in await effects()

        await eventually(replayed, timeout=60)
        assert (await effects()).count(event.event_id) == 1
    finally:
        await broker.stop()
        await engine.dispose()
