"""The sessions-revoked feed: every service process reads identity's SessionsRevoked topic into its revocation list.

Every replica must see every revocation, so the feed is not a consumer group (a group would share the partitions
among replicas): each process assigns itself all partitions, starts at the offsets of ``lookback`` ago (no access
token lives longer, so older revocations no longer matter), reads up to the end before the service answers, and
then follows the topic. Nothing is committed; a restart reads the last ``lookback`` again. See docs/adr/0011.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from shared.auth import RevocationList
from shared.events.identity import SessionsRevoked
from shared.settings import KafkaSettings

log = logging.getLogger(__name__)

TOPIC = SessionsRevoked.topic()


class RevocationFeed:
    """Follows the sessions-revoked topic from ``lookback`` ago into a :class:`RevocationList`."""

    def __init__(
        self,
        kafka: KafkaSettings,
        revocations: RevocationList,
        *,
        client_id: str,
        lookback: timedelta = timedelta(hours=1, minutes=1),
        start_timeout_s: float = 60.0,
    ) -> None:
        self._kafka = kafka
        self.revocations = revocations
        self._client_id = client_id
        self._lookback = lookback
        self._start_timeout_s = start_timeout_s
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.applied = 0

    async def start(self) -> None:
        """Assign every partition, read what was revoked in the last ``lookback``, then follow in the background."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._kafka.bootstrap_servers,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=self._kafka.request_timeout_ms,
        )
        await consumer.start()
        self._consumer = consumer
        try:
            await asyncio.wait_for(self._catch_up(consumer), timeout=self._start_timeout_s)
        except BaseException:
            await self.stop()
            raise
        self._task = asyncio.create_task(self._follow(consumer), name=f"{self._client_id}-follow")

    async def stop(self) -> None:
        """Stop following and close the consumer."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        """Return every partition of the topic (waiting for it to exist)."""
        while True:
            # The consumer's own metadata only covers assigned topics: ask the cluster for all of them.
            cluster = await consumer._client.fetch_all_metadata()
            found = cluster.partitions_for_topic(TOPIC)
            if found:
                return [TopicPartition(TOPIC, p) for p in sorted(found)]
            log.warning("topic %s does not exist yet; create the topics (shared.messaging.topics)", TOPIC)
            await asyncio.sleep(1.0)

    async def _catch_up(self, consumer: AIOKafkaConsumer) -> None:
        """Seek to ``lookback`` ago on every partition and read up to the current end."""
        partitions = await self._partitions(consumer)
        consumer.assign(partitions)
        since_ms = int((time.time() - self._lookback.total_seconds()) * 1000)
        offsets = await consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
        for tp in partitions:
            found = offsets.get(tp)
            if found is None:
                await consumer.seek_to_end(tp)
            else:
                consumer.seek(tp, found.offset)
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=500, max_records=1000)
            for records in batches.values():
                for record in records:
                    self._apply(record.value)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        log.info(
            "revocation feed caught up: %d entries from the last %s", len(self.revocations), self._lookback
        )

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        """Apply new revocations as they arrive; errors are logged and retried, never fatal."""
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
                for records in batches.values():
                    for record in records:
                        self._apply(record.value)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("the revocation feed could not read; retrying", exc_info=True)
                await asyncio.sleep(1.0)

    def _apply(self, body: bytes | None) -> None:
        """Add one SessionsRevoked message to the list (an unreadable one is logged and skipped)."""
        if body is None:
            return
        try:
            event = SessionsRevoked.model_validate_json(body)
        except ValidationError:
            log.error("unreadable message on %s skipped", TOPIC)
            return
        self.revocations.revoke(
            user_id=event.user_id,
            session_ids=[str(s) for s in event.session_ids],
            issued_before=event.issued_before,
            valid_until=event.valid_until,
        )
        self.applied += 1
