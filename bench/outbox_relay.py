"""Outbox relay throughput against a bare aiokafka producer with the same settings, to the same broker.

Each round writes N events to the outbox of a scratch database (not timed), then times the relay from start until
every row is marked sent. The baseline sends the same N payloads with a bare ``AIOKafkaProducer`` configured by the
same ``producer_config`` and waits for every acknowledgement. Both measured in the same run, rounds interleaved.

    .venv/bin/python bench/outbox_relay.py [--events 20000] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT, bench_stack, running_stack
from localstack import Stack
from shared.db import create_engine, session_factory
from shared.events import UserRegistered
from shared.messaging.outbox import OutboxRelay, producer_config
from shared.messaging.tables import messaging_metadata, outbox_message
from shared.messaging.topics import ensure_topics
from shared.settings import KafkaSettings, MessagingSettings

# A topic of the benchmark's own, so that no service consumes what it publishes.
BENCH_TOPIC = "bench.outbox-relay.v1"


def _events(n: int) -> list[UserRegistered]:
    return [
        UserRegistered(user_id=uuid.uuid4(), category="foreign_national", email=f"u{i}@example.jp")
        for i in range(n)
    ]


async def _relay_round(stack: Stack, n: int) -> float:
    engine = create_engine(stack.database_url("ras_bench_outbox"))
    sessions = session_factory(engine)
    events = _events(n)
    async with sessions() as session, session.begin():
        await session.execute(text("TRUNCATE outbox_message"))
        for chunk in range(0, n, 1000):
            await session.execute(
                insert(outbox_message),
                [
                    {
                        "event_id": e.event_id,
                        "event_type": e.event_type,
                        "topic": e.topic(),
                        "key": e.key(),
                        "payload": e.model_dump(mode="json"),
                        "headers": {},
                    }
                    for e in events[chunk : chunk + 1000]
                ],
            )
    relay = OutboxRelay(
        sessions,
        KafkaSettings(bootstrap_servers=stack.kafka_bootstrap),
        client_id="bench-relay",
        settings=MessagingSettings(outbox_batch_size=1000, outbox_poll_interval_s=0.05),
    )
    start = time.perf_counter()
    relay.start()
    while True:
        async with sessions() as session:
            left = await session.scalar(select(func.count()).where(outbox_message.c.sent_at.is_(None)))
        if left == 0:
            break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    await relay.stop()
    await engine.dispose()
    return elapsed


async def _bare_round(stack: Stack, n: int) -> float:
    events = _events(n)
    payloads = [
        (BENCH_TOPIC, json.dumps(e.model_dump(mode="json")).encode(), e.key().encode()) for e in events
    ]
    producer = AIOKafkaProducer(
        **producer_config(KafkaSettings(bootstrap_servers=stack.kafka_bootstrap), "bench-bare")
    )
    await producer.start()
    try:
        start = time.perf_counter()
        futures = [await producer.send(topic, value=value, key=key) for topic, value, key in payloads]
        await asyncio.gather(*futures)
        return time.perf_counter() - start
    finally:
        await producer.stop()


async def run(stack: Stack, *, events: int, rounds: int) -> dict[str, Any]:
    """Measure both and return medians, spreads and the ratio."""
    engine = create_engine(stack.database_url("ras_bench_outbox"))
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
    await engine.dispose()
    await _bare_round(stack, min(events, 1000))  # warm up the broker and the client
    relay_rates: list[float] = []
    bare_rates: list[float] = []
    for _ in range(rounds):
        bare_rates.append(events / await _bare_round(stack, events))
        relay_rates.append(events / await _relay_round(stack, events))

    def summary(rates: list[float]) -> dict[str, float]:
        return {
            "median_per_s": round(statistics.median(rates)),
            "min_per_s": round(min(rates)),
            "max_per_s": round(max(rates)),
        }

    relay, bare = summary(relay_rates), summary(bare_rates)
    return {
        "benchmark": "outbox_relay",
        "events_per_round": events,
        "rounds": rounds,
        "relay": relay,
        "baseline_bare_aiokafka_producer": bare,
        "ratio_to_baseline": round(relay["median_per_s"] / bare["median_per_s"], 2),
        "target": ">= 0.5x the bare producer",
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark stack running")
    args = parser.parse_args()
    if args.quick:
        args.events, args.rounds = 2000, 2
    with running_stack(bench_stack(), keep=args.keep) as stack:
        stack.start_postgres()
        stack.start_kafka()
        stack.create_topics()
        asyncio.run(ensure_topics(stack.kafka_bootstrap, topics=[BENCH_TOPIC]))
        stack.create_database("ras_bench_outbox", fresh=True)
        result = asyncio.run(run(stack, events=args.events, rounds=args.rounds))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "outbox_relay.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
