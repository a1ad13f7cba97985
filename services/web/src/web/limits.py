"""The portal's own body limit: every form is small, so a body over the limit is refused before it is read whole.

The gateway refuses bodies over 256 KiB first; this keeps the portal bounded when it is reached without the gateway.
A Content-Length over the limit is answered at once; a chunked body is cut off when its count passes the limit.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORM_MAX_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """The body passed the limit while it was being read."""


class BodyLimit:
    """ASGI middleware bounding every request body of the portal."""

    def __init__(self, app: ASGIApp, max_bytes: int = FORM_MAX_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared length over the limit; count the bytes of any other body as they arrive."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(
            "送信されたデータが大きすぎます。 / The form sent is too large.",
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
