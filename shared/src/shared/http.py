"""The HTTP edge of every service: body-size limits per route, body-read timeouts, security headers, docs switch.

``guard(app, limits)`` wraps the whole ASGI app (outside Starlette's error middleware, so even a 500 carries the
headers). For each request it

* refuses a body whose ``Content-Length`` is over the route's limit with 413 before reading a byte, and cuts a
  chunked body off with 413 as soon as the bytes counted pass the limit (nothing is read whole first);
* answers 408 when the body takes longer than ``body_timeout_s`` in all, or a gap between two chunks is longer than
  ``body_gap_s`` (a client that trickles its body is cut off; uvicorn bounds the headers and idle connections);
* adds the security headers to every response (nosniff, no framing, no referrer, no caching of personal data).

Limits are per route: ``json_max_bytes`` by default, overridden by ``body_limits`` keyed ``"METHOD /path/template"``
(the attachment upload route is the big one). Each operation documents its limit as ``x-max-body-bytes`` in the
OpenAPI document, and ``document_common_responses`` adds the problem responses every route can give (400, 401, 408,
413, 422, 503) so the document tells every status a client may see. The public gateway repeats these limits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PROBLEM_JSON, AppError

log = logging.getLogger(__name__)

KIB = 1024
MIB = 1024 * KIB

#: The highest page number a list route accepts (page * page size stays far below a 64-bit offset).
MAX_PAGE = 10_000
#: The highest row offset a list route accepts.
MAX_OFFSET = 1_000_000

DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
)
#: The interactive docs load their script and style from a CDN; only frame-ancestors is kept for them.
DOCS_CSP = b"frame-ancestors 'none'"


class HttpLimits(BaseModel):
    """Limits of the HTTP edge of one service (env ``<SERVICE>_HTTP__…``); the gateway repeats them."""

    json_max_bytes: int = Field(
        default=64 * KIB, gt=0, description="default body limit of a route (JSON bodies)"
    )
    body_timeout_s: float = Field(default=30.0, gt=0, description="longest time to receive a whole body")
    body_gap_s: float = Field(default=10.0, gt=0, description="longest silence between two body chunks")
    docs: bool = Field(default=False, description="serve the interactive API docs at /docs and /redoc")


def uvicorn_limits() -> dict[str, Any]:
    """Return the uvicorn settings that bound what a client can hold: headers, idle keep-alive connections.

    The pure-Python h11 parser is chosen because its limit on an incomplete request head (``h11_max_incomplete_event
    _size``) is a setting; the body is bounded and timed by :class:`HttpGuard`.
    """
    return {
        "http": "h11",
        "h11_max_incomplete_event_size": 16 * KIB,  # a request head not ended within 16 KiB is refused
        "timeout_keep_alive": 5,  # an idle keep-alive connection is closed after 5 s
    }


class BodyRefused(StarletteHTTPException):
    """Raised from ``receive`` when the body is over its limit or too slow; rendered as problem details."""

    def __init__(self, error: AppError) -> None:
        super().__init__(status_code=error.status, detail=error.message_en)
        self.error = error


def too_large(limit: int) -> AppError:
    """Return the 413 problem of a body over ``limit`` bytes."""
    return AppError(
        413,
        "request.too_large",
        f"送信されたデータが大きすぎます（上限 {limit:,} バイト）。内容を減らしてから送り直してください。",
        f"The request body is too large (at most {limit:,} bytes). Send less, then try again.",
        extra={"limit_bytes": limit},
    )


def too_slow(timeout_s: float, gap_s: float) -> AppError:
    """Return the 408 problem of a body that did not arrive in time."""
    return AppError(
        408,
        "request.timeout",
        f"データの受信に時間がかかりすぎたため中断しました（全体 {timeout_s:g} 秒、途切れ {gap_s:g} 秒まで）。"
        "通信環境を確認してから送り直してください。",
        f"The request body took too long to arrive (at most {timeout_s:g} s in all, {gap_s:g} s between parts). "
        "Check your connection, then send it again.",
        extra={"body_timeout_s": timeout_s, "body_gap_s": gap_s},
    )


def _problem_messages(error: AppError) -> list[Message]:
    body = json.dumps(error.to_problem(), ensure_ascii=False).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is not read
    ]
    return [
        {"type": "http.response.start", "status": error.status, "headers": headers},
        {"type": "http.response.body", "body": body},
    ]


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _with_security_headers(message: Message, *, docs: bool) -> Message:
    headers = list(message.get("headers", ()))
    present = {name.lower() for name, _ in headers}
    for name, value in SECURITY_HEADERS:
        if name not in present:
            headers.append((name, DOCS_CSP if docs and name == b"content-security-policy" else value))
    return {**message, "headers": headers}


def api_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Yield (full path template, route) of every API route, also inside included routers kept whole."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path_format, route
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps an included router as one route
            context = getattr(route, "include_context", None)
            yield from api_routes(route.original_router.routes, prefix + getattr(context, "prefix", ""))


def _template_pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join(
        (".+" if part.endswith(":path}") else "[^/]+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


class HttpGuard:
    """ASGI wrapper: per-route body limits (413), body-read timeouts (408) and security headers."""

    def __init__(
        self, app: ASGIApp, owner: FastAPI, limits: HttpLimits, body_limits: Mapping[str, int]
    ) -> None:
        self.app = app
        self.owner = owner
        self.limits = limits
        self.body_limits = dict(body_limits)
        self._overrides: list[tuple[str, re.Pattern[str], int]] | None = None

    def overrides(self) -> list[tuple[str, re.Pattern[str], int]]:
        """Return (method, path pattern, limit) of the routes with their own limit; check each names a route."""
        if self._overrides is None:
            known = {
                f"{method} {path}"
                for path, route in api_routes(self.owner.routes)
                for method in route.methods or ()
            }
            unknown = set(self.body_limits) - known
            if unknown:  # a renamed route must not silently fall back to the small default
                raise RuntimeError(f"body limits name no route: {sorted(unknown)}")
            self._overrides = [
                (key.split(" ", 1)[0], _template_pattern(key.split(" ", 1)[1]), limit)
                for key, limit in self.body_limits.items()
            ]
        return self._overrides

    def limit_for(self, scope: Scope) -> int:
        """Return the body limit of the route the request goes to."""
        method, path = scope.get("method", ""), scope.get("path", "")
        for wanted, pattern, limit in self.overrides():
            if method == wanted and pattern.match(path):
                return limit
        return self.limits.json_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") in DOCS_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_security_headers(message, docs=docs)
            await send(message)

        limit = self.limit_for(scope)
        announced = _content_length(scope)
        if announced is not None and announced > limit:
            for message in _problem_messages(too_large(limit)):
                await send_with_headers(message)
            return
        has_body = bool(announced) or any(
            name == b"transfer-encoding" for name, _ in scope.get("headers", ())
        )
        await _Exchange(self, limit, receive, send_with_headers, has_body=has_body)(scope)


class _Exchange:
    """One request: counts and times the body it lets through, and answers for it when it is refused."""

    def __init__(self, guard: HttpGuard, limit: int, receive: Receive, send: Send, *, has_body: bool) -> None:
        self.guard = guard
        self.has_body = has_body
        self.limit = limit
        self.inner_receive = receive
        self.inner_send = send
        self.received = 0
        self.body_done = False
        self.deadline: float | None = None
        self.refused: AppError | None = None
        self.started = False
        self.answered = False

    async def __call__(self, scope: Scope) -> None:
        try:
            await self.guard.app(scope, self.receive, self.send)
        except Exception:
            if self.refused is None:
                raise
            if not self.started:
                await self.answer()
            elif not self.answered:
                raise

    async def answer(self) -> None:
        assert self.refused is not None
        self.started = self.answered = True
        for message in _problem_messages(self.refused):
            await self.inner_send(message)

    async def receive(self) -> Message:
        if self.body_done:
            return await self.inner_receive()
        limits = self.guard.limits
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + limits.body_timeout_s
        wait = min(limits.body_gap_s, self.deadline - now)
        try:
            if wait <= 0:
                raise TimeoutError
            message = await asyncio.wait_for(self.inner_receive(), timeout=wait)
        except TimeoutError:
            self.refused = too_slow(limits.body_timeout_s, limits.body_gap_s)
            raise BodyRefused(self.refused) from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.refused = too_large(self.limit)
                raise BodyRefused(self.refused)
            self.body_done = not message.get("more_body", False)
        else:
            self.body_done = True
        return message

    async def send(self, message: Message) -> None:
        if self.refused is not None:
            # Whatever the app made of the refused body (a 400, a 500, its own 413), the client gets ours.
            if not self.started:
                await self.answer()
            if self.answered:
                return
        if message["type"] == "http.response.start":
            self.started = True
            if self.has_body and not self.body_done:
                # The route did not read the body: close the connection rather than let the server take in (and
                # throw away) whatever the client goes on sending, unbounded and untimed.
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
        await self.inner_send(message)


def guard(app: FastAPI, limits: HttpLimits, *, body_limits: Mapping[str, int] | None = None) -> None:
    """Install the HTTP edge on an app: limits, timeouts, headers, the docs switch and the common responses.

    Call it last (after routes, middleware and instrumentation): it wraps the finished middleware stack.
    """
    overrides = dict(body_limits or {})
    if not limits.docs:
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in DOCS_PATHS]
        app.docs_url = app.redoc_url = None
    build = app.build_middleware_stack

    def build_guarded() -> ASGIApp:
        return HttpGuard(build(), app, limits, overrides)

    app.build_middleware_stack = build_guarded  # type: ignore[method-assign]
    document_common_responses(app, limits, overrides)


_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details with a stable code and what to do in Japanese and English.",
    "required": ["type", "title", "status", "code", "message_ja", "message_en"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "message_ja": {"type": "string"},
        "message_en": {"type": "string"},
    },
}

_COMMON: dict[int, str] = {
    400: "The body could not be read (`request.malformed`).",
    401: "Not signed in, or the token is not valid (`auth.required`, `auth.invalid_token`).",
    408: "The body took too long to arrive (`request.timeout`).",
    413: "The body is over this route's limit (`request.too_large`, see x-max-body-bytes).",
    422: "A parameter or the body is not valid (`request.invalid`).",
    503: "A dependency (database, broker) does not answer; try again later (`service.unavailable`).",
}


def _authenticated(route: APIRoute) -> bool:
    from shared.auth import current_principal

    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is current_principal:
            return True
        pending.extend(dependant.dependencies)
    return False


def _has_parameters(route: APIRoute) -> bool:
    d = route.dependant
    pending = [d]
    while pending:
        dependant = pending.pop()
        if (
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
        ):
            return True
        pending.extend(dependant.dependencies)
    return False


def document_common_responses(app: FastAPI, limits: HttpLimits, body_limits: Mapping[str, int]) -> None:
    """Make the OpenAPI document list the problem responses every route can give, and each route's body limit."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("Problem", _PROBLEM_SCHEMA)
        ref = {"$ref": "#/components/schemas/Problem"}
        for path, route in api_routes(app.routes):
            item = schema.get("paths", {}).get(path, {})
            for method in route.methods or ():
                operation = item.get(method.lower())
                if operation is None:
                    continue
                limit = body_limits.get(f"{method} {path}", limits.json_max_bytes)
                operation["x-max-body-bytes"] = limit
                wanted = [408, 413, 503]
                if "requestBody" in operation:
                    wanted.append(400)
                if _authenticated(route):
                    wanted.append(401)
                if _has_parameters(route):
                    wanted.append(422)
                responses = operation.setdefault("responses", {})
                validation = responses.get("422", {}).get("content", {})
                if "HTTPValidationError" in str(validation.get("application/json", {})):
                    del validation["application/json"]  # FastAPI's default; ours is problem+json
                for status in sorted(wanted):
                    entry = responses.setdefault(str(status), {"description": _COMMON[status]})
                    content = entry.setdefault("content", {})
                    if content and PROBLEM_JSON not in content:
                        continue  # the route answers this status with its own body (e.g. /ready's 503)
                    content.setdefault(PROBLEM_JSON, {}).setdefault("schema", ref)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
