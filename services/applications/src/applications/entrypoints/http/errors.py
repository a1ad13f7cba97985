"""Domain errors as problem details, and the error responses each route documents in OpenAPI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from applications.domain.errors import ApplicationNotEligible, DomainError, Refusal, SubmissionBlocked
from shared.errors import AppError, problem


class ProblemPublic(BaseModel):
    """RFC 9457 problem details with a stable code and what to do in Japanese and English."""

    type: str
    title: str
    status: int
    code: str
    message_ja: str
    message_en: str


def refusal_public(r: Refusal) -> dict[str, Any]:
    """Return one refusal for the wire."""
    return {
        "code": r.code,
        "message_ja": r.message_ja,
        "message_en": r.message_en,
        "details": dict(r.details),
    }


def as_app_error(exc: DomainError) -> AppError:
    """Return the problem-details error of a domain error (refusals and field issues listed in full)."""
    extra: dict[str, Any] = {"details": dict(exc.details)}
    if isinstance(exc, ApplicationNotEligible | SubmissionBlocked):
        extra["refusals"] = [refusal_public(r) for r in exc.refusals]
    if isinstance(exc, SubmissionBlocked):
        extra["fields"] = [
            {"path": i.path, "code": i.code, "message_ja": i.message_ja, "message_en": i.message_en}
            for i in exc.field_issues
        ]
    return AppError(exc.http_status, exc.code, exc.message_ja, exc.message_en, extra=extra)


def install(app: FastAPI) -> None:
    """Render every domain error as problem details."""

    async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem(as_app_error(exc))

    app.add_exception_handler(DomainError, _domain_error)


def responses(*entries: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI ``responses`` of a route: per status, the error codes it may answer with."""
    by_status: dict[int, list[str]] = {}
    for status, code in entries:
        by_status.setdefault(status, []).append(code)
    return {
        status: {
            "model": ProblemPublic,
            "description": "Problem details; code: " + ", ".join(f"`{c}`" for c in codes),
            "content": {"application/problem+json": {}},
        }
        for status, codes in sorted(by_status.items())
    }


AUTH = ((401, "auth.required"), (401, "auth.invalid_token"))
NOT_FOUND = ((404, "application.not_found"),)
INVALID_REQUEST = ((422, "request.invalid"),)
TRANSITION = ((409, "application.invalid_transition"), (409, "application.version_conflict"))
OFFICER = ((403, "auth.role_required"), (403, "back_office.no_bureau"))
