"""Idempotent consumers: inbox row and effects in one transaction, bounded retries, then the dead-letter topic.

``subscribe_event`` registers a FastStream subscriber (group = the consuming service) for one event contract.
For each message it parses the contract; runs the handler inside a transaction that first inserts
``(consumer, event_id)`` into the inbox (a redelivery finds the row and is acknowledged without a second
effect); retries a failing handler a bounded number of times with backoff; and then publishes the message to
``<topic>.dlq`` with the error in headers and acknowledges it, so one poison message never blocks a partition.
Only when even the dead-letter publish fails does it raise, and the message is redelivered (never at-most-once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events.envelope import Event
from shared.messaging.tables import inbox_message
from shared.settings import MessagingSettings

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[AsyncSession, E], Awaitable[None]]


async def publish_dead_letter(
    broker: KafkaBroker,
    *,
    topic: str,
    body: bytes,
    key: bytes | None,
    headers: dict[str, str],
    error: str,
    consumer: str,
) -> None:
    """Publish a failed message to ``<topic>.dlq`` with the error, the consumer and the original headers."""
    dlq_headers = {**headers, "x-dlq-error": error[:2000], "x-dlq-consumer": consumer, "x-dlq-topic": topic}
    await broker.publish(body, topic=f"{topic}.dlq", key=key, headers=dlq_headers)


def subscribe_event(
    broker: KafkaBroker,
    event_type: type[E],
    handler: Handler[E],
    *,
    consumer: str,
    sessions: async_sessionmaker[AsyncSession],
    settings: MessagingSettings | None = None,
) -> Callable[..., Awaitable[None]]:
    """Subscribe ``handler`` to ``event_type`` as ``consumer``, exactly once in effect."""
    return subscribe_events(
        broker, {event_type: handler}, consumer=consumer, sessions=sessions, settings=settings
    )


def subscribe_events(
    broker: KafkaBroker,
    handlers: Mapping[type[Any], Handler[Any]],
    *,
    consumer: str,
    sessions: async_sessionmaker[AsyncSession],
    settings: MessagingSettings | None = None,
) -> Callable[..., Awaitable[None]]:
    """Subscribe one consumer (one group member) to several event topics, each with its handler.

    One Kafka consumer for all of a service's topics joins its group once, instead of one member per topic that
    rebalances all the others at every join (see docs/adr/0005).
    """
    policy = settings or MessagingSettings()
    routes: dict[str, tuple[type[Event], Handler[Any]]] = {e.topic(): (e, h) for e, h in handlers.items()}

    async def process(event: Event, handler: Handler[Any]) -> bool:
        """Run the handler once in a transaction with the inbox row; False when it was a duplicate."""
        async with sessions() as session, session.begin():
            inserted = await session.execute(
                pg_insert(inbox_message)
                .values(consumer=consumer, event_id=event.event_id, event_type=event.event_type)
                .on_conflict_do_nothing()
                .returning(inbox_message.c.event_id)
            )
            if inserted.first() is None:
                return False
            await handler(session, event)
            return True

    async def on_event(message: KafkaMessage) -> None:
        raw: Any = message.raw_message
        body: bytes = message.body
        key: bytes | None = getattr(raw, "key", None)
        topic: str = getattr(raw, "topic", "") or next(iter(routes))
        event_type, handler = routes[topic]
        headers = {
            k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in (message.headers or {}).items()
        }
        try:
            event = event_type.model_validate_json(body)
        except ValidationError as exc:
            log.error("unparseable %s on %s; sent to the dead-letter topic", event_type.__name__, topic)
            await publish_dead_letter(
                broker,
                topic=topic,
                body=body,
                key=key,
                headers=headers,
                error=f"unparseable: {exc}",
                consumer=consumer,
            )
            return
        error: BaseException | None = None
        for attempt in range(1, policy.consumer_max_attempts + 1):
            try:
                if not await process(event, handler):
                    log.info("duplicate %s %s skipped by %s", event.event_type, event.event_id, consumer)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = exc
                log.warning(
                    "%s failed on %s %s (attempt %d/%d)",
                    consumer,
                    event.event_type,
                    event.event_id,
                    attempt,
                    policy.consumer_max_attempts,
                    exc_info=True,
                )
                if attempt < policy.consumer_max_attempts:
                    await asyncio.sleep(policy.consumer_backoff_s * 2 ** (attempt - 1))
        log.error(
            "%s gave up on %s %s; sent to the dead-letter topic", consumer, event.event_type, event.event_id
        )
        await publish_dead_letter(
            broker, topic=topic, body=body, key=key, headers=headers, error=repr(error), consumer=consumer
        )

    names = sorted(e.__name__ for e in handlers)
    on_event.__name__ = f"on_{'_'.join(names)}" if len(names) <= 3 else f"on_{len(names)}_events"
    subscriber = broker.subscriber(
        *routes,
        group_id=consumer,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{consumer}:{','.join(routes)}",
    )
    subscriber(on_event)
    return on_event
