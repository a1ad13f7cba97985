"""Operator routes: the delivery log by recipient and by application, failures, one delivery, and re-send."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from notifications.config import MailSettings
from notifications.entrypoints.http.schemas import DeliveryList, DeliveryPublic, DeliveryStatus, Problem
from notifications.service_layer import operator
from shared.auth import OPERATOR_ROLE, CurrentPrincipal, require_role
from shared.errors import AppError
from shared.http import MAX_OFFSET
from shared.service import ServiceRuntime

router = APIRouter(prefix="/api/notifications", tags=["delivery log"])

#: Every error code a route can answer, by HTTP status (kept in the OpenAPI document).
AUTH_ERRORS = {401: ["auth.required", "auth.invalid_token"], 403: ["auth.role_required"]}
INVALID = {422: ["request.invalid", "delivery.filter_required"]}
NOT_FOUND = {404: ["delivery.not_found"]}
CONFLICT = {409: [operator.DeliveryInProgress.code, operator.SecretNotResendable.code]}


def responses(*groups: dict[int, list[str]]) -> dict[int | str, dict[str, Any]]:
    """Return OpenAPI responses naming each problem code per status."""
    merged: dict[int, list[str]] = {}
    for group in groups:
        for status, codes in group.items():
            merged.setdefault(status, []).extend(codes)
    return {
        status: {
            "model": Problem,
            "content": {"application/problem+json": {}},
            "description": "Problem details; `code` is one of: " + ", ".join(f"`{c}`" for c in codes),
        }
        for status, codes in sorted(merged.items())
    }


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]


@router.get(
    "/deliveries",
    response_model=DeliveryList,
    responses=responses(AUTH_ERRORS, INVALID),
    summary="Delivery log by recipient or by application",
)
async def read_deliveries(
    principal: CurrentPrincipal,
    request: Request,
    recipient: Annotated[str | None, Query(max_length=320, description="Address (any case).")] = None,
    application_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeliveryList:
    """List the mails to one address or about one application, newest first (operator role)."""
    require_role(principal, OPERATOR_ROLE)
    if recipient is None and application_id is None:
        raise AppError(
            422,
            "delivery.filter_required",
            "宛先メールアドレス（recipient）または申請ID（application_id）を指定してください。",
            "Give a recipient address (recipient) or an application id (application_id).",
        )
    async with _runtime(request).sessions() as session:
        rows = await operator.list_deliveries(
            session,
            recipient=recipient,
            application_id=application_id,
            status=status,
            limit=limit,
            offset=offset,
        )
    return DeliveryList(items=[DeliveryPublic.from_row(r) for r in rows], limit=limit, offset=offset)


@router.get(
    "/failures",
    response_model=DeliveryList,
    responses=responses(AUTH_ERRORS, {422: ["request.invalid"]}),
    summary="Mails that failed for good",
)
async def read_failures(
    principal: CurrentPrincipal, request: Request, limit: Limit = 50, offset: Offset = 0
) -> DeliveryList:
    """List failed deliveries (permanent refusals and exhausted retries), newest first (operator role)."""
    require_role(principal, OPERATOR_ROLE)
    async with _runtime(request).sessions() as session:
        rows = await operator.list_deliveries(session, status="failed", limit=limit, offset=offset)
    return DeliveryList(items=[DeliveryPublic.from_row(r) for r in rows], limit=limit, offset=offset)


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryPublic,
    responses=responses(AUTH_ERRORS, NOT_FOUND, {422: ["request.invalid"]}),
    summary="One delivery",
)
async def read_delivery(
    principal: CurrentPrincipal, request: Request, delivery_id: uuid.UUID
) -> DeliveryPublic:
    """Show one delivery (operator role)."""
    require_role(principal, OPERATOR_ROLE)
    async with _runtime(request).sessions() as session:
        return DeliveryPublic.from_row(await operator.get_delivery(session, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/resend",
    response_model=DeliveryPublic,
    status_code=202,
    responses={
        200: {"model": DeliveryPublic, "description": "The re-send made earlier with this Idempotency-Key."},
        **responses(AUTH_ERRORS, NOT_FOUND, CONFLICT, {422: ["request.invalid"]}),
    },
    summary="Re-send a mail as a new delivery",
)
async def create_resend(
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
    delivery_id: uuid.UUID,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Repeat a request safely: the same key gives the same re-send."),
    ] = None,
) -> DeliveryPublic:
    """Queue the same mail to the same address again, as a new delivery linked to the original (operator role)."""
    require_role(principal, OPERATOR_ROLE)
    mail: MailSettings = request.app.state.mail_settings
    async with _runtime(request).sessions() as session, session.begin():
        row, created = await operator.resend(
            session,
            delivery_id=delivery_id,
            requested_by=principal.user_id,
            request_key=idempotency_key,
            mail=mail,
        )
    if created:
        request.app.state.delivery_worker.wake()
    else:
        response.status_code = 200
    return DeliveryPublic.from_row(row)
