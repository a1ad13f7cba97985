"""The HTTP edge of every service over real sockets: body limits, slow clients, security headers, paging bounds."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth import OFFICER_ROLE, OPERATOR_ROLE, Principal, TokenSigner
from shared.http import KIB, HttpLimits
from tests.platform.edge_support import SERVICES, Served, build, headers_for, served
from tests.support.apps import Infra

pytestmark = pytest.mark.integration

PAGING = {"page", "offset", "page_size", "limit"}


@pytest.fixture(scope="module")
def servers(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    """Every service, served by uvicorn with the default limits."""
    tmp = tmp_path_factory.mktemp("edge")
    running: dict[str, Served] = {}
    contexts = []
    try:
        for name in SERVICES:
            context = served(name, build(name, infra, tmp / name))
            running[name] = context.__enter__()
            contexts.append(context)
        yield running
    finally:
        for context in reversed(contexts):
            context.__exit__(None, None, None)


def body_route(spec: dict[str, Any]) -> tuple[str, str]:
    """Return (method, path) of an operation that takes a JSON body (else any that takes a body), params filled in."""
    candidates = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"post", "put", "patch"}
    ]
    candidates.sort(key=lambda c: "application/json" not in c[2].get("requestBody", {}).get("content", {}))
    assert candidates, "no route takes a body"
    method, path, operation = candidates[0]
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(uuid.uuid4()))
    return method.upper(), path


def exchange(
    port: int, head: str, parts: list[bytes], *, pause_s: float = 0.0
) -> tuple[int, dict[str, str], bytes]:
    """Send a request head and body parts over a real socket (``pause_s`` between parts); return the response.

    Sending stops as soon as the server answers or closes; the response is read to the end of the connection.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        for part in parts:
            if pause_s:
                time.sleep(pause_s)
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
            sock.setblocking(False)
            try:
                early = sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                early = b""
            finally:
                sock.setblocking(True)
            if early:
                break  # the server has answered: the client would stop sending
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    raw_head, _, body = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return status, headers, body


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def head(method: str, path: str, port: int, headers: dict[str, str]) -> str:
    """Return an HTTP/1.1 request head."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


@pytest.mark.parametrize("name", SERVICES)
def test_a_json_body_over_the_limit_announced_up_front_is_refused_without_being_sent(
    servers: dict[str, Served], infra: Infra, name: str
) -> None:
    server = servers[name]
    method, path = body_route(server.app.openapi())
    wanted = {
        **headers_for(name, infra),
        "Content-Type": "application/json",
        "Content-Length": str(64 * KIB + 1),
    }
    status, headers, body = exchange(server.port, head(method, path, server.port, wanted), [])
    assert status == 413, body
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["code"] == "request.too_large" and problem["limit_bytes"] == 64 * KIB
    assert problem["message_ja"] and problem["message_en"]


@pytest.mark.parametrize("name", SERVICES)
def test_a_chunked_body_over_the_limit_is_cut_off(
    servers: dict[str, Served], infra: Infra, name: str
) -> None:
    server = servers[name]
    spec = server.app.openapi()
    method, path = body_route(spec)
    wanted = {**headers_for(name, infra), "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    piece = b"[" + b"1," * (8 * KIB)
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    status, headers, body = exchange(server.port, head(method, path, server.port, wanted), [chunk] * 64)
    # The exchange returned: the server closed the connection instead of reading the whole megabyte.
    assert headers["connection"] == "close"
    takes_json = any(
        "application/json" in operation.get("requestBody", {}).get("content", {})
        for item in spec["paths"].values()
        for operation in item.values()
    )
    if takes_json:
        assert status == 413, body
        assert json.loads(body)["code"] == "request.too_large"
    else:  # notifications: no route reads a body; the route answers and the unread body is not taken in
        assert status in {401, 403, 404}, body


def test_the_upload_route_takes_bodies_up_to_the_attachment_limit_and_no_more(
    servers: dict[str, Served], infra: Infra
) -> None:
    server = servers["attachments"]
    operation = server.app.openapi()["paths"]["/api/attachments/applications/{application_id}/attachments"][
        "post"
    ]
    limit = operation["x-max-body-bytes"]
    assert limit >= 10 * 1024 * 1024
    path = f"/api/attachments/applications/{uuid.uuid4()}/attachments?kind=document&filename=a.pdf"
    base = {**headers_for("attachments", infra), "Content-Type": "application/pdf"}
    over, _, body = exchange(
        server.port, head("POST", path, server.port, base | {"Content-Length": str(limit + 1)}), []
    )
    assert over == 413 and json.loads(body)["limit_bytes"] == limit
    # Far over the JSON limit but within its own, the upload goes through to the route and is taken.
    data = b"%PDF-1.7\n" + b"0" * (64 * KIB)
    within, _, body = exchange(
        server.port, head("POST", path, server.port, base | {"Content-Length": str(len(data))}), [data]
    )
    assert within == 202, body


@pytest.mark.parametrize("name", SERVICES)
def test_every_response_carries_the_security_headers_and_the_docs_are_off(
    servers: dict[str, Served], infra: Infra, name: str
) -> None:
    server = servers[name]
    with httpx.Client(base_url=server.base_url, headers=headers_for(name, infra)) as client:
        responses = [client.get("/openapi.json"), client.get("/no/such/route"), client.get("/docs")]
        assert [r.status_code for r in responses] == [200, 404, 404]
        assert client.get("/redoc").status_code == 404
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"


def test_the_docs_are_served_when_turned_on(infra: Infra, tmp_path: Path) -> None:
    with served("notifications", build("notifications", infra, tmp_path, HttpLimits(docs=True))) as server:
        with httpx.Client(base_url=server.base_url) as client:
            assert client.get("/docs").status_code == 200
            assert client.get("/redoc").status_code == 200


def test_a_client_that_trickles_its_body_is_cut_off_with_408(infra: Infra, tmp_path: Path) -> None:
    limits = HttpLimits(body_timeout_s=1.0, body_gap_s=0.5)
    with served("applications", build("applications", infra, tmp_path, limits)) as server:
        path = f"/api/applications/{uuid.uuid4()}/forms/extension"
        wanted = {
            **headers_for("applications", infra),
            "Content-Type": "application/json",
            "Content-Length": "100",
            "If-Match": '"1"',
        }
        # One byte every 0.2 s: each gap is short, but 100 bytes would take 20 s.
        status, headers, body = exchange(
            server.port, head("PATCH", path, server.port, wanted), [b" "] * 100, pause_s=0.2
        )
        assert status == 408, body
        assert headers["connection"] == "close"
        assert json.loads(body)["code"] == "request.timeout"
        # A client that stops sending altogether is cut off too.
        status, _, body = exchange(server.port, head("PATCH", path, server.port, wanted), [b"{"])
        assert status == 408, body


def _token(infra: Infra, role: str) -> str:
    principal = Principal(user_id=uuid.uuid4(), roles=frozenset({role}), bureau="tokyo")
    return TokenSigner(infra.private_key).sign(principal)


def test_every_paging_parameter_of_every_service_is_bounded(servers: dict[str, Served], infra: Infra) -> None:
    found = []
    for name, server in servers.items():
        spec = server.app.openapi()
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "query" and parameter["name"] in PAGING:
                        schema = parameter["schema"]
                        assert "maximum" in schema, (name, path, parameter["name"])
                        found.append((name, method, path, parameter["name"], schema["maximum"]))
    routes = {(name, path) for name, _, path, _, _ in found}
    assert {
        ("applications", "/api/applications"),
        ("applications", "/api/back-office/applications"),
        ("notifications", "/api/notifications/deliveries"),
        ("notifications", "/api/notifications/failures"),
    } <= routes
    tokens = {
        "/api/applications": _token(infra, "applicant"),
        "/api/back-office/applications": _token(infra, OFFICER_ROLE),
        "/api/notifications/deliveries": _token(infra, OPERATOR_ROLE),
        "/api/notifications/failures": _token(infra, OPERATOR_ROLE),
    }
    for name, method, path, parameter, maximum in found:
        assert method == "get"
        base = {"recipient": "someone@example.jp"} if path.endswith("/deliveries") else {}
        with httpx.Client(
            base_url=servers[name].base_url, headers={"Authorization": f"Bearer {tokens[path]}"}
        ) as client:
            for value, wanted in ((2**63, 422), (maximum + 1, 422), (maximum, 200)):
                response = client.get(path, params=base | {parameter: value})
                assert response.status_code == wanted, (path, parameter, value, response.text)
                if wanted == 422:
                    assert response.json()["code"] == "request.invalid"


def test_every_integer_parameter_of_every_service_has_a_maximum(
    servers: dict[str, Served], infra: Infra
) -> None:
    unbounded = [
        (name, method, path, parameter["name"])
        for name, server in servers.items()
        for path, item in server.app.openapi()["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if parameter["schema"].get("type") == "integer" and "maximum" not in parameter["schema"]
    ]
    assert unbounded == []
    server = servers["attachments"]
    path = f"/api/attachments/applications/{uuid.uuid4()}/rounds/{2**63}"
    with httpx.Client(base_url=server.base_url, headers=headers_for("attachments", infra)) as client:
        response = client.get(path)
    assert response.status_code == 422 and response.json()["code"] == "request.invalid"
