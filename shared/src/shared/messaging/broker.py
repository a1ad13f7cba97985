"""The FastStream Kafka broker every service uses: idempotent producer, acks=all, telemetry middleware."""

from __future__ import annotations

import logging

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider

from shared.settings import KafkaSettings


def create_broker(
    kafka: KafkaSettings, *, service: str, tracer_provider: TracerProvider | None
) -> KafkaBroker:
    """Return a broker for ``service``; its subscribers and publishers trace through Kafka headers."""
    middlewares = [KafkaTelemetryMiddleware(tracer_provider=tracer_provider)] if tracer_provider else []
    return KafkaBroker(
        kafka.bootstrap_servers,
        client_id=service,
        acks="all",
        enable_idempotence=True,
        allow_auto_create_topics=False,
        request_timeout_ms=kafka.request_timeout_ms,
        graceful_timeout=15.0,
        middlewares=middlewares,
        logger=logging.getLogger(f"faststream.{service}"),
    )
