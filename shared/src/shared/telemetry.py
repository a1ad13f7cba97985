"""OpenTelemetry tracing and JSON logs carrying trace ids."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.propagate import inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from shared.settings import TelemetrySettings

_provider: TracerProvider | None = None


def tracer_provider(service: str, settings: TelemetrySettings) -> TracerProvider:
    """Return the process's tracer provider, creating and registering it on first use.

    One process may host several services in tests; they share the provider and name themselves in spans.
    """
    global _provider
    if _provider is None:
        _provider = build_tracer_provider(service, settings)
        trace.set_tracer_provider(_provider)
    return _provider


def build_tracer_provider(service: str, settings: TelemetrySettings) -> TracerProvider:
    """Return a new tracer provider that exports over OTLP/HTTP when an endpoint is configured."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otlp_endpoint.rstrip("/") + "/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def current_trace_headers() -> dict[str, str]:
    """Return the W3C trace context of the current span as headers (``traceparent``)."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the trace and span ids of the current span."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        span = trace.get_current_span().get_span_context()
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if span.is_valid:
            doc["trace_id"] = format(span.trace_id, "032x")
            doc["span_id"] = format(span.span_id, "016x")
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def configure_logging(service: str, settings: TelemetrySettings) -> None:
    """Send the root logger's records to stderr, as JSON lines when configured."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(service) if settings.json_logs else logging.Formatter(logging.BASIC_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
