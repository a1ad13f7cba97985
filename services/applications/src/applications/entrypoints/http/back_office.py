"""Back-office routes (officer role, own bureau only) and the operators' run-now of the receipt-number job."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from applications.domain.states import TERMINAL_STATES, ApplicationState
from applications.domain.values import RequestedDocument
from applications.entrypoints.http import errors as e
from applications.entrypoints.http.applicants import present
from applications.entrypoints.http.deps import IfMatchDep, ServiceDep
from applications.entrypoints.http.schemas import (
    ApplicationPage,
    ApplicationPublic,
    DispatchCreate,
    DocumentsReceivedCreate,
    ReceiptJobPublic,
    RefusalCreate,
    ReturnCreate,
    summary_public,
)
from shared.auth import OPERATOR_ROLE, CurrentPrincipal, require_role

router = APIRouter(prefix="/api/back-office", tags=["back office"])

OPEN_STATES = [s for s in ApplicationState if s != ApplicationState.DRAFT and s not in TERMINAL_STATES]
ACTION = e.responses(*e.AUTH, *e.OFFICER, *e.NOT_FOUND, *e.TRANSITION, *e.INVALID_REQUEST)


@router.get("/applications", responses=e.responses(*e.AUTH, *e.OFFICER, *e.INVALID_REQUEST))
async def read_queue(
    principal: CurrentPrincipal,
    service: ServiceDep,
    state: Annotated[
        list[ApplicationState] | None, Query(description="Repeatable; default: every open state.")
    ] = None,
    procedure: Annotated[str | None, Query(max_length=60)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ApplicationPage:
    """The bureau's queue, oldest submission first, filtered by state and procedure."""
    wanted = [s.value for s in (state or OPEN_STATES) if s != ApplicationState.DRAFT]
    views, total = await service.queue(
        principal, states=wanted, procedure=procedure, limit=page_size, offset=(page - 1) * page_size
    )
    return ApplicationPage(
        items=[summary_public(v) for v in views], total=total, page=page, page_size=page_size
    )


@router.get("/applications/{application_id}", responses=e.responses(*e.AUTH, *e.OFFICER, *e.NOT_FOUND))
async def read_queue_application(
    application_id: uuid.UUID, principal: CurrentPrincipal, service: ServiceDep, response: Response
) -> ApplicationPublic:
    """One application of the bureau with its attachments and history."""
    return present(service, await service.read(principal, application_id, officer=True), response, "officer")


@router.post("/applications/{application_id}/start-review", responses=ACTION)
async def start_review(
    application_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> ApplicationPublic:
    """Start the review: received → under review."""
    view = await service.officer_action(principal, application_id, "start_review", if_match=if_match)
    return present(service, view, response, "officer")


@router.post(
    "/applications/{application_id}/return",
    responses=e.responses(
        *e.AUTH,
        *e.OFFICER,
        *e.NOT_FOUND,
        *e.TRANSITION,
        *e.INVALID_REQUEST,
        (422, "application.requested_documents_missing"),
        (422, "application.return_deadline_invalid"),
    ),
)
async def return_application(
    application_id: uuid.UUID,
    body: ReturnCreate,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> ApplicationPublic:
    """Return for documents (返却): names the documents; a new attachment round opens for the applicant."""
    view = await service.officer_action(
        principal,
        application_id,
        "return",
        if_match=if_match,
        requested_documents=[RequestedDocument(d.description, d.kind) for d in body.requested_documents],
        note=body.message,
        deadline=body.deadline,
    )
    return present(service, view, response, "officer")


@router.post("/applications/{application_id}/documents-received", responses=ACTION)
async def record_documents_received(
    application_id: uuid.UUID,
    body: DocumentsReceivedCreate,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> ApplicationPublic:
    """The requested documents came by post or at the counter: recorded with the officer, review resumes."""
    view = await service.officer_action(
        principal,
        application_id,
        "documents_received",
        if_match=if_match,
        channel=body.channel,
        note=body.note,
    )
    return present(service, view, response, "officer")


@router.post("/applications/{application_id}/complete-review", responses=ACTION)
async def complete_review(
    application_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> ApplicationPublic:
    """Review completed (審査完了): the fee due from the fee table and what to send."""
    view = await service.officer_action(principal, application_id, "complete_review", if_match=if_match)
    return present(service, view, response, "officer")


@router.post("/applications/{application_id}/dispatch-card", responses=ACTION)
async def dispatch_card(
    application_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
    body: DispatchCreate | None = None,
) -> ApplicationPublic:
    """Record that the residence card was sent."""
    view = await service.officer_action(
        principal,
        application_id,
        "dispatch_card",
        if_match=if_match,
        tracking_number=body.tracking_number if body else None,
    )
    return present(service, view, response, "officer")


@router.post("/applications/{application_id}/refuse", responses=ACTION)
async def refuse_application(
    application_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
    body: RefusalCreate | None = None,
) -> ApplicationPublic:
    """Refuse the application (under review or returned)."""
    view = await service.officer_action(
        principal, application_id, "refuse", if_match=if_match, note=body.reason if body else None
    )
    return present(service, view, response, "officer")


@router.post("/applications/{application_id}/close", responses=ACTION)
async def close_application(
    application_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: ServiceDep,
    if_match: IfMatchDep,
    response: Response,
) -> ApplicationPublic:
    """Close the application once the card is dispatched."""
    view = await service.officer_action(principal, application_id, "close", if_match=if_match)
    return present(service, view, response, "officer")


@router.post(
    "/jobs/assign-receipt-numbers",
    responses=e.responses(*e.AUTH, (403, "auth.role_required")),
)
async def run_receipt_number_job(principal: CurrentPrincipal, service: ServiceDep) -> ReceiptJobPublic:
    """Operators: run the receipt-number job now (it also runs every night at the configured time)."""
    require_role(principal, OPERATOR_ROLE)
    assigned = await service.assign_receipt_numbers()
    return ReceiptJobPublic(assigned=len(assigned), receipt_numbers={str(i): n for i, n in assigned})
