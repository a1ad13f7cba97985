"""Origin allow-list, loopback Host check and CORS for the local API, checked on every request."""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from card_gateway.config import is_loopback
from shared.errors import PROBLEM_JSON, AppError

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = {"content-type", "accept", "accept-language"}


def _origin_refused() -> AppError:
    return AppError(
        403,
        "origin.not_allowed",
        "このページからはカードを利用できません。在留申請オンラインシステムの画面から操作してください。",
        "This page is not allowed to use the card. Use the Residence Application Online System's own pages.",
    )


def _host_refused() -> AppError:
    return AppError(
        403,
        "host.not_allowed",
        "このアドレスからはカードゲートウェイを利用できません。",
        "The card gateway answers only on this computer's loopback address.",
    )


class LocalOriginMiddleware:
    """Refuse requests from origins not on the list (403) and answer CORS for those that are."""

    def __init__(
        self, app: ASGIApp, *, allowed_origins: Iterable[str], check_host: bool = True, max_age_s: int = 600
    ) -> None:
        self.app = app
        self.allowed_origins = frozenset(allowed_origins)
        self.check_host = check_host
        self.max_age_s = max_age_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Host and Origin, answer preflights, add CORS headers to allowed responses."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.check_host and not _loopback_host(headers.get("host", "")):
            await _refuse(send, _host_refused())
            return
        origin = headers.get("origin", "").rstrip("/").lower()
        if origin not in self.allowed_origins:
            await _refuse(send, _origin_refused())
            return
        cors = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"vary", b"Origin"),
        ]
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            requested = {
                h.strip().lower()
                for h in headers.get("access-control-request-headers", "").split(",")
                if h.strip()
            }
            preflight = [
                *cors,
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (
                    b"access-control-allow-headers",
                    ", ".join(sorted(requested & ALLOWED_HEADERS | {"content-type"})).encode(),
                ),
                (b"access-control-max-age", str(self.max_age_s).encode()),
                (b"content-length", b"0"),
            ]
            if headers.get("access-control-request-private-network") == "true":
                preflight.append((b"access-control-allow-private-network", b"true"))
            await send({"type": "http.response.start", "status": 204, "headers": preflight})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _loopback_host(host: str) -> bool:
    """Return whether a Host header names a loopback address (with or without port)."""
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return bool(name) and is_loopback(name)


async def _refuse(send: Send, error: AppError) -> None:
    """Send a problem-details response without calling the app."""
    body = json.dumps(error.to_problem(), ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
