"""The transactional outbox: events written with the state change, published by a relay after commit.

``add_event`` inserts the event in the caller's transaction, with the current trace context. The relay
(``OutboxRelay``) sweeps every unsent row in id order with ``FOR UPDATE SKIP LOCKED`` (safe with several
replicas), publishes through an idempotent producer with ``acks=all``, and marks the rows sent in the same
transaction. When the broker is away it keeps the rows, records the error and backs off; nothing committed is
ever skipped. A commit wakes the relay at once, so latency stays low; otherwise it polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import Text, func, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from shared.events.envelope import Event
from shared.messaging.tables import outbox_message
from shared.settings import KafkaSettings, MessagingSettings
from shared.telemetry import current_trace_headers

log = logging.getLogger(__name__)

_wakers: weakref.WeakSet[OutboxRelay] = weakref.WeakSet()


def _wake_relays(_: Session) -> None:
    for relay in list(_wakers):
        relay.wake()


async def add_event(session: AsyncSession, event: Event) -> None:
    """Write ``event`` to the outbox in the session's current transaction."""
    await session.execute(
        insert(outbox_message).values(
            event_id=event.event_id,
            event_type=event.event_type,
            topic=event.topic(),
            key=event.key(),
            payload=event.model_dump(mode="json"),
            headers=current_trace_headers(),
        )
    )
    sync = session.sync_session
    if not sa_event.contains(sync, "after_commit", _wake_relays):
        sa_event.listen(sync, "after_commit", _wake_relays)


def producer_config(kafka: KafkaSettings, client_id: str) -> dict[str, Any]:
    """Return the producer settings used by the relay (and by its benchmark baseline)."""
    return {
        "bootstrap_servers": kafka.bootstrap_servers,
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 2,
        "request_timeout_ms": kafka.request_timeout_ms,
    }


class OutboxRelay:
    """Publishes unsent outbox rows to Kafka and marks them sent."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        kafka: KafkaSettings,
        *,
        client_id: str,
        settings: MessagingSettings | None = None,
    ) -> None:
        self._sessions = sessions
        self._kafka = kafka
        self._client_id = client_id
        self._settings = settings or MessagingSettings()
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.failures = 0
        _wakers.add(self)

    def wake(self) -> None:
        """Ask the relay to sweep now (called after a commit that wrote events)."""
        self._wake.set()

    async def _get_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(**producer_config(self._kafka, self._client_id))
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), timeout=5)
            except Exception:  # the broker may be gone; the next start makes a new one
                log.debug("producer stop failed", exc_info=True)

    async def publish_batch(self) -> int:
        """Publish one batch of unsent rows; return how many were published. Raises when publishing fails."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        outbox_message.c.id,
                        outbox_message.c.topic,
                        outbox_message.c.key,
                        # the JSON text as stored: no parse and re-serialise per row on the hot path
                        outbox_message.c.payload.cast(Text).label("payload"),
                        outbox_message.c.headers,
                    )
                    .where(outbox_message.c.sent_at.is_(None))
                    .order_by(outbox_message.c.id)
                    .limit(self._settings.outbox_batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            producer = await self._get_producer()
            futures = []
            for row in rows:
                headers = [(k, str(v).encode()) for k, v in (row.headers or {}).items()]
                futures.append(
                    await producer.send(
                        row.topic,
                        value=row.payload.encode(),
                        key=row.key.encode(),
                        headers=headers,
                    )
                )
            await asyncio.gather(*futures)
            await session.execute(
                update(outbox_message)
                .where(outbox_message.c.id.in_([r.id for r in rows]))
                .values(sent_at=func.now(), attempts=outbox_message.c.attempts + 1)
            )
            return len(rows)

    async def _record_failure(self, error: BaseException) -> None:
        try:
            async with self._sessions() as session, session.begin():
                oldest = select(outbox_message.c.id).where(outbox_message.c.sent_at.is_(None))
                first = (await session.execute(oldest.order_by(outbox_message.c.id).limit(1))).scalar()
                if first is not None:
                    await session.execute(
                        update(outbox_message)
                        .where(outbox_message.c.id == first)
                        .values(attempts=outbox_message.c.attempts + 1, last_error=repr(error)[:2000])
                    )
        except Exception:
            log.debug("could not record the outbox failure", exc_info=True)

    async def run(self) -> None:
        """Sweep until stopped: publish while there is work, back off on failure, sleep until woken."""
        backoff = 0.0
        while not self._stopping:
            try:
                published = await self.publish_batch()
                backoff = 0.0
                if published:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                log.warning("outbox relay could not publish; will retry", exc_info=True)
                await self._drop_producer()
                await self._record_failure(exc)
                backoff = min(self._settings.outbox_max_backoff_s, max(0.2, backoff * 2))
                await asyncio.sleep(backoff * (0.5 + random.random() / 2))
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._settings.outbox_poll_interval_s)

    def start(self) -> None:
        """Start the sweeping task."""
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self._client_id}")

    async def stop(self, *, drain_timeout_s: float = 10.0) -> None:
        """Stop sweeping, then publish what was committed up to now (bounded), and close the producer.

        A clean shutdown thus leaves no committed event behind; if the broker is away, the rows stay and the next
        start publishes them.
        """
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            except Exception:
                log.exception("outbox relay ended with an error")
            self._task = None
        try:
            async with asyncio.timeout(drain_timeout_s):
                while await self.publish_batch():
                    pass
        except Exception:
            log.warning("outbox not drained at shutdown; the next start publishes the rest", exc_info=True)
        await self._drop_producer()


async def backlog(session: AsyncSession) -> int:
    """Return how many outbox rows wait to be published (a metric for operators)."""
    count = await session.execute(select(func.count()).where(outbox_message.c.sent_at.is_(None)))
    return int(count.scalar_one())
