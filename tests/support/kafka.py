"""Read and write topics directly, as a Kafka client the services do not share."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    timeout: float = 30,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read ``topic`` from the beginning until ``until(records)`` holds; fail after ``timeout``."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-reader-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for recs in batch.values():
                records.extend(recs)
            if until(records):
                return records
        raise AssertionError(f"{topic}: condition not met after {timeout}s; read {len(records)} records")
    finally:
        await consumer.stop()


def event_ids(records: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
    """Return the event ids of the JSON records (others are ignored)."""
    ids = []
    for r in records:
        try:
            ids.append(json.loads(r.value or b"")["event_id"])
        except (ValueError, KeyError, TypeError):
            continue
    return ids


async def produce(
    bootstrap: str,
    topic: str,
    value: bytes,
    *,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Publish one raw message and wait for the broker's acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers or [])
    finally:
        await producer.stop()


def has_ids(wanted: set[str]) -> Callable[[list[ConsumerRecord[bytes, bytes]]], bool]:
    """Return a predicate: every wanted event id has been read."""
    return lambda records: wanted <= set(event_ids(records))


async def settle(seconds: float) -> None:
    """Give asynchronous work a moment (used only before asserting something did NOT happen twice)."""
    await asyncio.sleep(seconds)


def header(record: ConsumerRecord[Any, Any], name: str) -> str | None:
    """Return a header's value as text."""
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode()
    return None
