"""The HTTP edge (shared.http): body limits per route, body-read timeouts, security headers, docs, OpenAPI."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from starlette.types import Message

from shared.auth import CurrentPrincipal
from shared.errors import install_error_handlers
from shared.http import HttpLimits, guard

pytestmark = pytest.mark.unit

LIMITS = HttpLimits(json_max_bytes=1000, body_timeout_s=5, body_gap_s=0.05)
UPLOAD = "POST /upload"


class Note(BaseModel):
    """A small JSON body."""

    text: str


def make_app(limits: HttpLimits = LIMITS, overrides: dict[str, int] | None = None) -> FastAPI:
    """Return a guarded app with a JSON route, a streamed upload route, an authenticated route and a failing one."""
    app = FastAPI()
    install_error_handlers(app)
    app.state.read = 0

    @app.post("/notes")
    async def create_note(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    @app.get("/me")
    async def read_me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"id": str(principal.user_id)}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    guard(app, limits, body_limits={UPLOAD: 5000} | (overrides or {}))
    return app


async def call(
    app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: list[bytes] | None
) -> tuple[int, dict[str, str], bytes, int]:
    """Drive the ASGI app directly; return status, headers, body and how many body chunks the app asked for.

    ``chunks=None`` is a client that sends nothing after its headers (receive never returns a body).
    """
    pending = list(chunks or [])
    asked = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal asked
        asked += 1
        if chunks is None:
            await asyncio.sleep(3600)
        if not pending:
            await asyncio.sleep(3600)  # the body is over; only a disconnect would come
        chunk = pending.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    try:
        await app(scope, receive, send)
    except RuntimeError as exc:
        if str(exc) != "boom":
            raise
        # the route's own error is re-raised after the 500 is sent, as under uvicorn
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    names = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], names, body, asked


async def test_a_content_length_over_the_limit_is_refused_before_a_byte_of_the_body_is_read() -> None:
    status, headers, body, asked = await call(
        make_app(), "POST", "/notes", {"content-type": "application/json", "content-length": "1001"}, None
    )
    assert status == 413
    assert asked == 0
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["code"] == "request.too_large"
    assert problem["limit_bytes"] == 1000
    assert "1,000" in problem["message_ja"] and "1,000" in problem["message_en"]


async def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit() -> None:
    chunks = [b'{"text": "', b"x" * 600, b"x" * 600, b"x" * 600, b'"}']
    status, _, body, asked = await call(
        make_app(),
        "POST",
        "/notes",
        {"content-type": "application/json", "transfer-encoding": "chunked"},
        chunks,
    )
    assert status == 413
    assert json.loads(body)["code"] == "request.too_large"
    assert asked == 3  # the third chunk passed the limit; the rest was never asked for


async def test_a_body_within_the_limit_reaches_the_route() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app()), base_url="http://t"
    ) as client:
        response = await client.post("/notes", json={"text": "x" * 900})
    assert response.status_code == 200
    assert response.json() == {"length": 900}


async def test_a_route_with_its_own_limit_takes_bigger_bodies_and_is_cut_off_at_its_limit() -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        fits = await client.post("/upload", content=b"x" * 5000)
        over = await client.post("/upload", content=b"x" * 5001)
    assert fits.status_code == 200 and fits.json() == {"size": 5000}
    assert over.status_code == 413 and over.json()["limit_bytes"] == 5000
    status, _, body, _ = await call(app, "POST", "/upload", {}, [b"x" * 3000, b"x" * 3000])
    assert status == 413 and json.loads(body)["code"] == "request.too_large"


async def test_a_body_that_stops_arriving_gets_408_in_the_problem_format() -> None:
    status, headers, body, _ = await call(
        make_app(), "POST", "/notes", {"content-type": "application/json", "content-length": "100"}, None
    )
    assert status == 408
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert problem["code"] == "request.timeout"
    assert problem["message_ja"] and problem["message_en"]


async def test_a_streamed_body_that_stops_arriving_gets_408() -> None:
    status, _, body, _ = await call(make_app(), "POST", "/upload", {"content-length": "100"}, None)
    assert status == 408
    assert json.loads(body)["code"] == "request.timeout"


async def test_a_body_limit_that_names_no_route_stops_the_app_from_serving() -> None:
    app = make_app(overrides={"POST /uploads-renamed": 10})
    with pytest.raises(RuntimeError, match="name no route"):
        await call(app, "GET", "/me", {}, [b""])


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/me", 401), ("GET", "/nowhere", 404), ("GET", "/boom", 500), ("GET", "/openapi.json", 200)],
)
async def test_every_response_carries_the_security_headers(method: str, path: str, status: int) -> None:
    got, headers, _, _ = await call(make_app(), method, path, {}, [b""])
    assert got == status
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"


async def test_the_interactive_docs_are_served_only_when_turned_on() -> None:
    off = make_app()
    on = make_app(HttpLimits(docs=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://t") as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/redoc")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=on), base_url="http://t") as client:
        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert docs.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert (await client.get("/redoc")).status_code == 200


def test_the_openapi_document_lists_the_common_problem_responses_and_each_body_limit() -> None:
    spec = make_app().openapi()
    notes = spec["paths"]["/notes"]["post"]
    upload = spec["paths"]["/upload"]["post"]
    me = spec["paths"]["/me"]["get"]
    boom = spec["paths"]["/boom"]["get"]
    assert {"400", "408", "413", "422", "503"} <= set(notes["responses"])
    assert "401" not in notes["responses"]
    assert {"401", "408", "413", "503"} <= set(me["responses"])
    assert "400" not in me["responses"] and "422" not in boom["responses"]
    assert notes["x-max-body-bytes"] == 1000 and upload["x-max-body-bytes"] == 5000
    problem = notes["responses"]["413"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "application/json" not in notes["responses"]["422"]["content"]
    assert spec["components"]["schemas"]["Problem"]["required"][:4] == ["type", "title", "status", "code"]


async def test_a_route_that_does_not_read_the_body_closes_the_connection_after_answering() -> None:
    app = make_app()
    _, unread, _, asked = await call(app, "GET", "/me", {"content-length": "500"}, [b"x" * 500])
    _, no_body, _, _ = await call(app, "GET", "/me", {}, [b""])
    assert asked == 0
    assert unread["connection"] == "close"
    assert "connection" not in no_body  # keep-alive stays for requests without a body
