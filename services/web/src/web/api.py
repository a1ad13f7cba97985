"""Clients of the services' public APIs: the portal owns no business data and reads none of their databases.

One method a backend resource, in the manner of GOV.UK Notify's admin (``*_api_client.py``). Every call carries
the signed-in person's access token, the browser's address (the portal is a trusted proxy of the services), the
request's trace context, and the chosen language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from web.config import WebSettings


class ApiError(Exception):
    """A service answered with an error: its status and problem details (code, message_ja, message_en)."""

    def __init__(self, status: int, problem: dict[str, Any], headers: httpx.Headers | None = None) -> None:
        super().__init__(f"{status} {problem.get('code')}")
        self.status = status
        self.problem = problem
        self.headers = headers or httpx.Headers()

    @property
    def code(self) -> str:
        """The problem's stable code."""
        return str(self.problem.get("code", f"http.{self.status}"))

    def message(self, language: str) -> str:
        """The service's message in the chosen language."""
        text = self.problem.get(f"message_{language}") or self.problem.get("message_en") or ""
        return str(text)


class ServiceUnavailable(ApiError):
    """A service could not be reached."""


@dataclass
class CallContext:
    """What every call passes on from the browser's request."""

    client_address: str | None = None
    traceparent: str | None = None
    language: str = "ja"


class Api:
    """The services, as any client of the public API sees them."""

    def __init__(self, settings: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.bases = {
            "identity": settings.identity_url.rstrip("/"),
            "applications": settings.applications_url.rstrip("/"),
            "attachments": settings.attachments_url.rstrip("/"),
            "notifications": settings.notifications_url.rstrip("/"),
        }
        self.http = httpx.AsyncClient(timeout=settings.api_timeout_s, transport=transport)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        ctx: CallContext,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Call a service; return its JSON (None for 204) or raise ApiError with its problem."""
        headers = {"Accept": "application/json", "Accept-Language": ctx.language}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if ctx.client_address:
            headers["X-Forwarded-For"] = ctx.client_address
        if ctx.traceparent:
            headers["traceparent"] = ctx.traceparent
        try:
            answer = await self.http.request(
                method, f"{self.bases[service]}{path}", headers=headers, json=json, params=params
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailable(503, {"code": "service.unavailable"}) from exc
        if answer.status_code == 204:
            return None
        try:
            body = answer.json()
        except ValueError:
            body = {}
        if answer.status_code >= 400:
            if answer.status_code in (502, 503, 504) and not isinstance(body, dict):
                raise ServiceUnavailable(answer.status_code, {"code": "service.unavailable"}, answer.headers)
            raise ApiError(answer.status_code, body if isinstance(body, dict) else {}, answer.headers)
        return body

    # ------------------------------------------------------------------ identity
    async def sign_in(self, ctx: CallContext, auth_id: str, password: str) -> dict[str, Any]:
        """Sign in with 認証ID and password: tokens."""
        result: dict[str, Any] = await self.call(
            "identity", "POST", "/api/identity/sessions", ctx, json={"auth_id": auth_id, "password": password}
        )
        return result

    async def refresh(self, ctx: CallContext, refresh_token: str) -> dict[str, Any]:
        """Exchange a refresh token for new tokens."""
        result: dict[str, Any] = await self.call(
            "identity", "POST", "/api/identity/sessions/refresh", ctx, json={"refresh_token": refresh_token}
        )
        return result

    async def sign_out(self, ctx: CallContext, refresh_token: str) -> None:
        """Revoke the refresh token (and so the session)."""
        await self.call(
            "identity", "POST", "/api/identity/sessions/sign-out", ctx, json={"refresh_token": refresh_token}
        )

    async def me(self, ctx: CallContext, token: str) -> dict[str, Any]:
        """The signed-in account."""
        result: dict[str, Any] = await self.call("identity", "GET", "/api/identity/me", ctx, token=token)
        return result

    async def check_link(self, ctx: CallContext, token: str, purpose: str) -> dict[str, Any]:
        """Whether an e-mailed link still works (``password_setup`` or ``password_reset``)."""
        result: dict[str, Any] = await self.call(
            "identity", "POST", "/api/identity/link-checks", ctx, json={"token": token, "purpose": purpose}
        )
        return result

    async def set_password(
        self, ctx: CallContext, token: str, password: str, *, reset: bool
    ) -> dict[str, Any]:
        """Set the first password (set-up link) or a new one (reset link): the 認証ID comes back."""
        path = "/api/identity/password-resets/completions" if reset else "/api/identity/password-setups"
        result: dict[str, Any] = await self.call(
            "identity", "POST", path, ctx, json={"token": token, "password": password}
        )
        return result

    async def request_reset(self, ctx: CallContext, email: str) -> dict[str, Any]:
        """E-mail a reset link (the same answer for known and unknown addresses)."""
        result: dict[str, Any] = await self.call(
            "identity", "POST", "/api/identity/password-resets", ctx, json={"email": email}
        )
        return result

    # ------------------------------------------------------------------ applications
    async def applications(self, ctx: CallContext, token: str, page: int = 1) -> dict[str, Any]:
        """申請情報検索: my applications and those of the people I act for."""
        result: dict[str, Any] = await self.call(
            "applications",
            "GET",
            "/api/applications",
            ctx,
            token=token,
            params={"page": page, "page_size": 20},
        )
        return result

    async def application(self, ctx: CallContext, token: str, application_id: str) -> dict[str, Any]:
        """One application with its history and attachment verdicts."""
        result: dict[str, Any] = await self.call(
            "applications", "GET", f"/api/applications/{application_id}", ctx, token=token
        )
        return result
