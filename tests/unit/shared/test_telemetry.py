"""Traces leave over OTLP/HTTP when an endpoint is configured; logs are JSON lines carrying the trace id."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared.settings import TelemetrySettings
from shared.telemetry import JsonFormatter, build_tracer_provider

pytestmark = pytest.mark.integration


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def collector() -> Iterator[str]:
    """An OTLP/HTTP collector stand-in on a free loopback port."""
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Collector.received.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_spans_are_exported_over_otlp_http_when_an_endpoint_is_configured(collector: str) -> None:
    provider = build_tracer_provider("identity", TelemetrySettings(otlp_endpoint=collector))
    with provider.get_tracer("test").start_as_current_span("register-user"):
        pass
    assert provider.force_flush(10_000)
    provider.shutdown()
    path, body = _Collector.received[0]
    assert path == "/v1/traces"
    request = ExportTraceServiceRequest.FromString(body)
    spans = request.resource_spans[0].scope_spans[0].spans
    assert spans[0].name == "register-user"
    service = {a.key: a.value.string_value for a in request.resource_spans[0].resource.attributes}[
        "service.name"
    ]
    assert service == "identity"


def test_no_exporter_is_installed_without_an_endpoint() -> None:
    provider = build_tracer_provider("identity", TelemetrySettings())
    assert provider._active_span_processor._span_processors == ()
    provider.shutdown()


def test_log_lines_are_json_with_the_current_trace_id() -> None:
    provider = build_tracer_provider("identity", TelemetrySettings())
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    with provider.get_tracer("test").start_as_current_span("work") as span:
        line = json.loads(JsonFormatter("identity").format(record))
    assert line["msg"] == "hello world"
    assert line["service"] == "identity"
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
