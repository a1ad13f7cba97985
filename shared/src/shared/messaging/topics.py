"""Explicit topic creation (auto-create is off): every contract's topic and its dead-letter topic."""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.events import all_topics

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap_servers: str, *, partitions: int = 3, replication: int = 1, topics: list[str] | None = None
) -> list[str]:
    """Create the missing topics; return the names that were created. Harmless to call again."""
    wanted = topics if topics is not None else all_topics()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ras-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(name=t, num_partitions=partitions, replication_factor=replication) for t in missing]
            )
        return missing
    finally:
        await admin.close()


def main() -> None:
    """Command line: ``python -m shared.messaging.topics BOOTSTRAP``."""
    import sys

    created = asyncio.run(ensure_topics(sys.argv[1]))
    print(f"created {len(created)} topics")


if __name__ == "__main__":
    main()
