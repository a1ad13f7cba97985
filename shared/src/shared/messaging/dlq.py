"""Operators' tool for dead letters: list what is in a ``<topic>.dlq`` and replay it to the original topic; and
how far a consumer group is behind on a topic (its lag), to watch a paused consumer catch up after an outage.

Replaying is safe: every consumer keeps an inbox, so a consumer that already handled an event ignores it.

    python -m shared.messaging.dlq list BOOTSTRAP TOPIC
    python -m shared.messaging.dlq replay BOOTSTRAP TOPIC [--consumer NAME]
    python -m shared.messaging.dlq lag BOOTSTRAP TOPIC --consumer NAME
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True)
class DeadLetter:
    """One message in a dead-letter topic."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def error(self) -> str:
        """Why it was dead-lettered."""
        return self.headers.get("x-dlq-error", "")

    @property
    def consumer(self) -> str:
        """Which consumer gave up on it."""
        return self.headers.get("x-dlq-consumer", "")


async def read_dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    """Return every message currently in ``<topic>.dlq``."""
    dlq = f"{topic}.dlq"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()  # aiokafka has no public call that keeps it
        partitions = [TopicPartition(dlq, p) for p in sorted(cluster.partitions_for_topic(dlq) or set())]
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        begins = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, begins[tp])
        letters: list[DeadLetter] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in partitions])

        while await behind():
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < ends[tp]:
                        headers = {k: bytes(v).decode(errors="replace") for k, v in r.headers or ()}
                        letters.append(DeadLetter(tp.partition, r.offset, r.key, r.value or b"", headers))
        return sorted(letters, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


async def replay(bootstrap: str, topic: str, *, consumer: str | None = None) -> int:
    """Publish the dead letters of ``topic`` (optionally only one consumer's) back to it; return how many."""
    letters = [
        d for d in await read_dead_letters(bootstrap, topic) if consumer is None or d.consumer == consumer
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for letter in letters:
            headers = [(k, v.encode()) for k, v in letter.headers.items() if not k.startswith("x-dlq-")]
            headers.append(("x-replayed-from", f"{topic}.dlq:{letter.partition}:{letter.offset}".encode()))
            headers.append(("x-replay-id", uuid.uuid4().hex.encode()))
            await producer.send_and_wait(topic, letter.value, key=letter.key, headers=headers)
    finally:
        await producer.stop()
    return len(letters)


async def lag(bootstrap: str, topic: str, group: str) -> dict[int, int]:
    """Return, per partition of ``topic``, how many messages ``group`` has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or set())]
        if not partitions:
            cluster = await consumer._client.fetch_all_metadata()  # aiokafka has no public call that keeps it
            partitions = [
                TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or set())
            ]
        ends = await consumer.end_offsets(partitions)
        result = {}
        for tp in partitions:
            done = committed.get(tp)
            result[tp.partition] = ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0)
        return result
    finally:
        await consumer.stop()
        await admin.close()


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["list", "replay", "lag"])
    parser.add_argument("bootstrap")
    parser.add_argument("topic", help="the original topic, e.g. identity.user-registered.v1")
    parser.add_argument("--consumer", help="only the dead letters of this consumer group (lag: the group)")
    args = parser.parse_args()
    if args.command == "list":
        for d in asyncio.run(read_dead_letters(args.bootstrap, args.topic)):
            print(
                json.dumps(
                    {
                        "partition": d.partition,
                        "offset": d.offset,
                        "consumer": d.consumer,
                        "error": d.error,
                        "value": d.value.decode(errors="replace"),
                    },
                    ensure_ascii=False,
                )
            )
    elif args.command == "lag":
        if not args.consumer:
            parser.error("lag needs --consumer GROUP")
        behind = asyncio.run(lag(args.bootstrap, args.topic, args.consumer))
        print(
            json.dumps(
                {"topic": args.topic, "group": args.consumer, "lag": behind, "total": sum(behind.values())}
            )
        )
    else:
        count = asyncio.run(replay(args.bootstrap, args.topic, consumer=args.consumer))
        print(f"replayed {count} messages to {args.topic}")


if __name__ == "__main__":
    main()
