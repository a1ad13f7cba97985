"""Refusals leave the service as problem details (code, ja, en, and every broken rule); OpenAPI lists them per route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from identity.domain.errors import IdentityRefusal
from identity.domain.password import PasswordRejected
from identity.domain.users import RepresentationRejected
from identity.service_layer.errors import MESSAGES, STATUS, Refused, status_of
from shared.errors import PROBLEM_JSON, AppError


class ReasonPublic(BaseModel):
    """One broken rule."""

    code: str
    field: str | None = None
    message_ja: str
    message_en: str


class ProblemPublic(BaseModel):
    """Problem details (RFC 9457) with a stable code and what to do in Japanese and English."""

    type: str
    title: str
    status: int
    code: str
    message_ja: str
    message_en: str
    reasons: list[ReasonPublic] | None = None


def to_app_error(refusal: IdentityRefusal) -> AppError:
    """Translate a domain or use-case refusal into the problem the client sees."""
    extra: dict[str, Any] = {}
    reason = refusal.reason
    code, ja, en = reason.code, reason.ja, reason.en
    rules: list[Any] | None = None
    if isinstance(refusal, PasswordRejected):
        rules, code = refusal.reasons, "password.rejected"
    elif isinstance(refusal, RepresentationRejected):
        rules, code = refusal.reasons, "representation.rejected"
    if rules is not None:
        ja, en = MESSAGES[code]
        extra["reasons"] = [
            {"code": r.code, "field": r.field, "message_ja": r.ja, "message_en": r.en} for r in rules
        ]
    if isinstance(refusal, Refused):
        extra.update(refusal.extra)
    return AppError(status_of(code), code, ja, en, extra=extra)


def install_identity_error_handlers(app: FastAPI) -> None:
    """Render every refusal as problem+json, with Retry-After when the client should wait."""

    @app.exception_handler(IdentityRefusal)
    async def _refused(_: Request, exc: IdentityRefusal) -> JSONResponse:
        error = to_app_error(exc)
        headers: dict[str, str] = {}
        retry_after = exc.retry_after if isinstance(exc, Refused) else None
        if error.code == "certificate.revocation_unknown":
            retry_after = 60
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return JSONResponse(
            error.to_problem(), status_code=error.status, media_type=PROBLEM_JSON, headers=headers
        )


def problems(*codes: str) -> dict[int | str, dict[str, Any]]:
    """Return the ``responses=`` of a route: one entry per status, naming every problem code it may return."""
    by_status: dict[int, list[str]] = {}
    for code in (*codes, "request.invalid"):
        status = STATUS[code]
        if code not in by_status.setdefault(status, []):
            by_status[status].append(code)
    return {
        status: {
            "model": ProblemPublic,
            "description": "Problem codes: " + ", ".join(f"`{c}`" for c in found),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemPublic"}}},
            "x-problem-codes": found,
        }
        for status, found in sorted(by_status.items())
    }
