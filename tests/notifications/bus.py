"""Publish events onto the test broker as the producing services would (topic and key from the contract)."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from shared.events import Event


async def publish(bootstrap: str, *events: Event) -> None:
    """Publish the events in order through one producer and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(e.topic(), e.model_dump_json().encode(), key=e.key().encode()) for e in events
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()
