"""The public gateway: the distribution's nginx with the project's configuration, in front of recording peers.

These tests run the real nginx with the same templates as ``make up`` and docker-compose, and look at what it
passes on and what it answers itself: routes, client address, request id and trace context, limits, rate limits,
slow clients, security headers, JSON access logs, and the answers when a service is down.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.gateway.upstream import RecordingUpstream
from tests.support.stack import ROOT, Ports, Stack, port_open

pytestmark = pytest.mark.integration

OFFSET = int(os.environ.get("RAS_TEST_PORT_OFFSET", "0"))
BASE = 27000 + OFFSET
SERVICE_PORTS = {
    "identity": BASE + 101,
    "applications": BASE + 102,
    "attachments": BASE + 103,
    "notifications": BASE + 104,
}
WEB_PORT = BASE + 100


def gateway_stack() -> Stack:
    """A stack with only the gateway started, on ports of its own."""
    ports = Ports(
        services=dict(SERVICE_PORTS),
        card_gateway=BASE + 105,
        gateway=BASE + 80,
        gateway_tls=BASE + 443,
        web=WEB_PORT,
    )
    var = ROOT / "var" / (f"test-gateway-{OFFSET}" if OFFSET else "test-gateway")
    return Stack(var, ports)


@pytest.fixture(scope="module")
def upstream() -> Iterator[RecordingUpstream]:
    """Recording peers on every service port and the portal's (notifications stays down: see the 503 test)."""
    peers = RecordingUpstream(
        [p for s, p in SERVICE_PORTS.items() if s != "notifications"] + [WEB_PORT],
        extra_headers={"X-Frame-Options": "SAMEORIGIN", "Server": "uvicorn"},
    )
    peers.start()
    yield peers
    peers.stop()


@pytest.fixture(scope="module")
def gateway(upstream: RecordingUpstream) -> Iterator[Stack]:
    """Start nginx through the local stack's code (TLS on), stop it after; nothing may be left running."""
    stack = gateway_stack()
    stack.proc("gateway").stop()
    shutil.rmtree(stack.var, ignore_errors=True)
    os.environ["RAS_GATEWAY_TLS"] = "1"
    try:
        stack.start_gateway()
        yield stack
    finally:
        os.environ.pop("RAS_GATEWAY_TLS", None)
        stack.proc("gateway").stop()
        assert stack.proc("gateway").pid() is None
        assert not port_open(stack.ports.gateway)


@pytest.fixture
def client(gateway: Stack) -> Iterator[httpx.Client]:
    """An HTTP client of the gateway's public address."""
    with httpx.Client(base_url=gateway.public_url, timeout=20) as c:
        yield c


def test_each_api_prefix_reaches_its_service_and_nothing_else_does(
    client: httpx.Client, upstream: RecordingUpstream
) -> None:
    for path, service in [
        ("/api/identity/me", "identity"),
        ("/api/applications/reference/procedures?at=2026-12-01", "applications"),
        ("/api/back-office/applications", "applications"),
        ("/api/attachments/applications/x", "attachments"),
        ("/", None),
        ("/applications/123", None),
    ]:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        seen = answer.json()
        assert seen["port"] == (SERVICE_PORTS[service] if service else WEB_PORT), path
        assert seen["path"] == path.split("?")[0]
    assert (
        client.get("/api/applications/reference/procedures?at=2026-12-01").json()["query"] == "at=2026-12-01"
    )
    for path in ["/api/unknown/x", "/api/", "/ready", "/alive", "/metrics", "/openapi.json", "/docs"]:
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "resource.not_found"


def test_the_client_address_is_the_tcp_peer_whatever_the_client_claims(client: httpx.Client) -> None:
    seen = client.get(
        "/api/identity/me", headers={"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.8"}
    ).json()
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert seen["headers"]["x-real-ip"] == "127.0.0.1"
    assert seen["headers"]["x-forwarded-proto"] == "http"


def test_a_request_id_and_a_w3c_traceparent_reach_the_service(client: httpx.Client) -> None:
    answer = client.get("/api/applications/x")
    request_id = answer.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    seen = answer.json()["headers"]
    assert seen["x-request-id"] == request_id
    # No trace from the client: the gateway starts one whose trace id is its request id.
    assert re.fullmatch(rf"00-{request_id}-[0-9a-f]{{16}}-01", seen["traceparent"])

    mine = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert (
        client.get("/api/applications/x", headers={"traceparent": mine}).json()["headers"]["traceparent"]
        == mine
    )
    forged = client.get("/api/applications/x", headers={"traceparent": "00-nothex-00-01"}).json()
    assert (
        forged["headers"]["traceparent"].startswith("00-")
        and "nothex" not in forged["headers"]["traceparent"]
    )


def test_security_headers_on_every_answer_and_the_strict_policy_on_the_portal(client: httpx.Client) -> None:
    for path in ["/api/applications/x", "/", "/api/unknown"]:
        answer = client.get(path)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers.get_list("x-frame-options") == ["DENY"], path  # the service's own is replaced
        assert answer.headers["referrer-policy"] == "no-referrer", path
        assert "strict-transport-security" not in answer.headers, path  # plain HTTP: no HSTS
        assert "uvicorn" not in answer.headers.get("server", ""), path
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "connect-src 'self' http://127.0.0.1:" in csp  # the card-gateway on the applicant's machine
    assert client.get("/static/app.css").headers["cache-control"] == "public, max-age=31536000, immutable"


def test_json_routes_are_small_and_the_upload_route_takes_one_attachment(
    client: httpx.Client, upstream: RecordingUpstream
) -> None:
    before = len(upstream.requests)
    too_big = client.post("/api/applications/x", content=b"{" + b" " * (300 * 1024) + b"}")
    assert too_big.status_code == 413
    assert too_big.headers["content-type"].startswith("application/problem+json")
    problem = too_big.json()
    assert problem["code"] == "request.too_large" and "10,485,760" in problem["message_en"]
    assert len(upstream.requests) == before  # refused before any byte reached the service

    upload = "/api/attachments/applications/5b9c7a52-0000-4000-8000-000000000001/attachments?kind=document"
    five_mb = client.post(upload, content=b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024))
    assert five_mb.status_code == 200
    assert five_mb.json()["body_bytes"] == 5 * 1024 * 1024 + 9

    exact = client.post(upload, content=b"0" * (10 * 1024 * 1024))
    assert exact.status_code == 200
    over = client.post(upload, content=b"0" * (10 * 1024 * 1024 + 1))
    assert over.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(11):
            yield b"0" * (1024 * 1024)

    chunked = client.post(upload, content=chunks())
    assert chunked.status_code == 413


def test_resets_sign_in_and_registration_are_rate_limited_per_address(client: httpx.Client) -> None:
    statuses = [client.post("/api/identity/password-resets", json={}).status_code for _ in range(15)]
    assert statuses[0] == 200
    assert 429 in statuses
    limited = client.post("/api/identity/password-resets", json={})
    assert limited.status_code == 429
    assert limited.headers["retry-after"].isdigit()
    assert limited.json()["code"] == "request.rate_limited"
    assert "待って" in limited.json()["message_ja"]
    # Other routes are not limited by that zone.
    assert client.get("/api/identity/me").status_code == 200
    sign_ins = [client.post("/api/identity/sessions", json={}).status_code for _ in range(25)]
    assert sign_ins[0] == 200 and sign_ins[-1] == 429


def test_a_service_that_is_down_answers_a_503_problem_and_the_portal_a_page(
    gateway: Stack, client: httpx.Client, upstream: RecordingUpstream
) -> None:
    down = client.get("/api/notifications/deliveries")  # nothing listens on the notifications port
    assert down.status_code == 503
    assert down.headers["retry-after"].isdigit()
    assert down.json()["code"] == "service.unavailable"
    assert "保存した内容は失われていません" in down.json()["message_ja"]

    # The portal down: a page in both languages, never the proxy's own error page.
    upstream.shut(WEB_PORT)
    page = client.get("/applications")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "ただいま利用できません" in page.text and "Not available right now" in page.text
    assert "nginx" not in page.text


def test_a_client_that_sends_its_headers_too_slowly_is_cut_off(gateway: Stack) -> None:
    with socket.create_connection(("127.0.0.1", gateway.ports.gateway), timeout=30) as sock:
        sock.sendall(b"GET /api/identity/me HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        data = b""
        while time.monotonic() - started < 30:
            try:
                part = sock.recv(4096)
            except TimeoutError:
                break
            if not part:
                break
            data += part
        # nginx closes the connection (after its 408) instead of waiting for the rest.
        assert time.monotonic() - started < 30
        assert data == b"" or b"408" in data.split(b"\r\n", 1)[0]


def test_access_log_is_json_without_query_strings(gateway: Stack, client: httpx.Client) -> None:
    client.get("/api/identity/password-setups?token=very-secret-link-token")
    log = stack_log(gateway)
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    entry = next(e for e in reversed(lines) if e["path"] == "/api/identity/password-setups")
    assert entry["status"] == 200 and entry["method"] == "GET" and entry["client"] == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", entry["request_id"])
    assert "very-secret-link-token" not in log


def stack_log(stack: Stack) -> str:
    """The gateway's access log, once nginx has written the last line."""
    path = stack.log_dir / "gateway-access.log"
    for _ in range(50):
        if path.exists() and path.stat().st_size:
            break
        time.sleep(0.1)
    return path.read_text()


def test_tls_when_turned_on_with_hsts(gateway: Stack) -> None:
    context = ssl.create_default_context(cafile=str(gateway.gateway_dir / "tls" / "gateway.crt"))
    with httpx.Client(base_url=f"https://127.0.0.1:{gateway.ports.gateway_tls}", verify=context) as tls:
        answer = tls.get("/api/identity/me")
    assert answer.status_code == 200
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert answer.json()["headers"]["x-forwarded-proto"] == "https"
