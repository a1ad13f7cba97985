"""The applications service as attachments asks it, synchronously, about an application it has not heard of yet.

Events stay the source of ownership; this read closes the short gap between a change at the applications service
(a draft created, a round opened by the bureau) and attachments consuming its event, so an upload made at once is
not refused. The caller's own token is forwarded: applications answers only what that caller may see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import httpx
from pydantic import BaseModel, ValidationError


class _Round(BaseModel):
    number: int
    open: bool


class _View(BaseModel):
    id: uuid.UUID
    state: str
    bureau: str
    applicant_id: uuid.UUID
    filer_user_id: uuid.UUID
    rounds: list[_Round]


@dataclass(frozen=True)
class ApplicationFacts:
    """What the applications service records about an application the caller may see."""

    application_id: uuid.UUID
    state: str
    bureau: str
    applicant_id: uuid.UUID
    filer_user_id: uuid.UUID
    open_round: int | None


class ApplicationsUnavailableError(Exception):
    """The applications service did not answer usefully."""


class ApplicationsClient(Protocol):
    """Reads an application at the applications service with the caller's token."""

    async def facts(self, application_id: uuid.UUID, authorization: str) -> ApplicationFacts | None:
        """Return the application's facts, or None when it does not exist for this caller."""
        ...


class HttpApplicationsClient:
    """``GET /api/applications/{id}`` of the applications service."""

    def __init__(self, base_url: str, *, timeout_s: float) -> None:
        """Talk to the service at ``base_url``."""
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout_s

    async def facts(self, application_id: uuid.UUID, authorization: str) -> ApplicationFacts | None:
        """Return the application's facts, or None when it does not exist for this caller."""
        try:
            async with httpx.AsyncClient(base_url=self._base_url, timeout=self._timeout) as client:
                response = await client.get(
                    f"/api/applications/{application_id}", headers={"Authorization": authorization}
                )
        except httpx.HTTPError as exc:
            raise ApplicationsUnavailableError(str(exc)) from exc
        if response.status_code in (401, 403, 404):
            return None
        if response.status_code != 200:
            raise ApplicationsUnavailableError(f"HTTP {response.status_code}")
        try:
            view = _View.model_validate_json(response.content)
        except ValidationError as exc:
            raise ApplicationsUnavailableError("unexpected answer") from exc
        if view.id != application_id:
            raise ApplicationsUnavailableError("answer about another application")
        open_rounds = [r.number for r in view.rounds if r.open]
        return ApplicationFacts(
            application_id=view.id,
            state=view.state,
            bureau=view.bureau,
            applicant_id=view.applicant_id,
            filer_user_id=view.filer_user_id,
            open_round=max(open_rounds) if open_rounds else None,
        )
