"""Idempotent consumers: inbox row and effects in one transaction; outages wait, bad messages are dead-lettered.

``subscribe_event`` registers a FastStream subscriber (group = the consuming service) for one event contract.
For each message it parses the contract; runs the handler inside a transaction that first inserts
``(consumer, event_id)`` into the inbox (a redelivery finds the row and is acknowledged without a second
effect). Failures are sorted (``shared.failures.is_transient``, docs/adr/0008):

* **transient** — the consumer's database, the broker, the SMTP server or another dependency does not answer. The
  message is never dead-lettered: the consumer holds it (takes no further message, commits no offset) and
  retries with exponential backoff capped at ``consumer_transient_backoff_max_s``, until the dependency answers.
  After ``consumer_hold_s`` it hands the message back to Kafka uncommitted (the partition is rewound to it) and
  fetches it again at once, so the group member keeps polling and stays in its group; the backoff carries on.
  A stop while holding leaves the offset uncommitted too: the next start takes the message again.
* **content** — the message cannot be parsed, or the handler fails for any other reason. The handler is retried
  ``consumer_max_attempts`` times with backoff, then the message goes to ``<topic>.dlq`` with the error in
  headers and is acknowledged, so one poison message never blocks a partition. Only when even the dead-letter
  publish fails does it raise, and the message is redelivered (never at-most-once).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events.envelope import Event
from shared.failures import DependencyUnavailable, is_transient
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


class _Outage:
    """The outage state of one consumer: the backoff grows while a dependency is away and resets when it answers."""

    def __init__(self, consumer: str, policy: MessagingSettings) -> None:
        self._consumer = consumer
        self._policy = policy
        self._delay = 0.0
        self._since: float | None = None
        self._last_log = 0.0
        self.failures = 0

    def failed(self, event: Event, exc: BaseException) -> float:
        """Record one transient failure and return how long to wait before the next try."""
        now = time.monotonic()
        self.failures += 1
        if self._since is None:
            self._since = now
            self._last_log = now
            log.warning(
                "%s paused: a dependency is unavailable (%r); holding %s %s and retrying with backoff, "
                "nothing is dead-lettered",
                self._consumer,
                exc,
                event.event_type,
                event.event_id,
            )
        elif now - self._last_log >= 30:
            self._last_log = now
            log.warning("%s still paused after %.0fs: %r", self._consumer, now - self._since, exc)
        base = self._policy.consumer_backoff_s
        self._delay = min(self._policy.consumer_transient_backoff_max_s, max(base, self._delay * 2))
        return self._delay * (0.8 + random.random() * 0.4)

    def recovered(self) -> None:
        """The handler went through: end the outage, if there was one."""
        if self._since is not None:
            log.warning(
                "%s resumed: the dependency answers again after %.1fs (%d transient failures)",
                self._consumer,
                time.monotonic() - self._since,
                self.failures,
            )
        self._since = None
        self._delay = 0.0
        self.failures = 0


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

    outage = _Outage(consumer, policy)

    async def hold(event: Event, exc: BaseException, held_since: float) -> None:
        """Wait out a transient failure; hand the message back to Kafka when held too long or when stopping."""
        delay = outage.failed(event, exc)
        if time.monotonic() - held_since + delay > policy.consumer_hold_s:
            raise DependencyUnavailable(
                f"{consumer}: a dependency is still unavailable after {policy.consumer_hold_s:.0f}s; "
                f"{event.event_type} {event.event_id} goes back to Kafka uncommitted and is fetched again"
            ) from exc
        deadline = time.monotonic() + delay
        while (left := deadline - time.monotonic()) > 0:
            if not getattr(subscriber, "running", True):
                raise DependencyUnavailable(
                    f"{consumer} is stopping while a dependency is unavailable"
                ) from exc
            await asyncio.sleep(min(left, 0.5))

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
        attempt = 0
        held_since = time.monotonic()
        while True:
            try:
                if not await process(event, handler):
                    log.info("duplicate %s %s skipped by %s", event.event_type, event.event_id, consumer)
                outage.recovered()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc):
                    await hold(event, exc, held_since)
                    continue
                error = exc
                attempt += 1
                log.warning(
                    "%s failed on %s %s (attempt %d/%d)",
                    consumer,
                    event.event_type,
                    event.event_id,
                    attempt,
                    policy.consumer_max_attempts,
                    exc_info=True,
                )
                if attempt >= policy.consumer_max_attempts:
                    break
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
