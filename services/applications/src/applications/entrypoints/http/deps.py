"""FastAPI dependencies of the applications service (``Annotated`` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from applications.reference.loader import ReferenceData
from applications.service_layer.services import ApplicationService, parse_if_match


async def get_service(request: Request) -> ApplicationService:
    """Return the process's application service."""
    service: ApplicationService = request.app.state.applications
    return service


async def get_reference(request: Request) -> ReferenceData:
    """Return the reference data loaded at start."""
    service: ApplicationService = request.app.state.applications
    return service.reference


async def get_if_match(
    if_match: Annotated[str | None, Header(description='The ETag read, e.g. "3".')] = None,
) -> int | None:
    """Return the version named by If-Match, or None."""
    return parse_if_match(if_match)


ServiceDep = Annotated[ApplicationService, Depends(get_service)]
ReferenceDep = Annotated[ReferenceData, Depends(get_reference)]
IfMatchDep = Annotated[int | None, Depends(get_if_match)]
