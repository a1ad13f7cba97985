"""Routes of ``/api/attachments``: upload, rounds, reads, Mynaportal tax data."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attachments.adapters.blobstore import BlobStore
from attachments.adapters.mynaportal import MynaportalClient
from attachments.config import AttachmentsSettings
from attachments.domain import errors
from attachments.entrypoints.http.schemas import (
    ApplicationAttachmentsPublic,
    AttachmentPublic,
    RoundPublic,
    TaxInfoFetchCreate,
    TaxInfoFetchPublic,
    TaxInfoRegisterCreate,
)
from attachments.service_layer import rounds, tax_info, uploads
from shared.auth import CurrentPrincipal

router = APIRouter(prefix="/api/attachments", tags=["attachments"])

ApplicationId = Annotated[
    uuid.UUID, Path(description="the application (draft) id from the applications service")
]
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_LOCALES = ("ja", "en")


def _settings(request: Request) -> AttachmentsSettings:
    settings: AttachmentsSettings = request.app.state.settings
    return settings


def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    return sessions


def _blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blob_store
    return blobs


def _mynaportal(request: Request) -> MynaportalClient:
    client: MynaportalClient = request.app.state.mynaportal
    return client


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _locale(explicit: str | None, accept_language: str | None) -> str | None:
    if explicit in _LOCALES:
        return explicit
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in _LOCALES:
            return tag
    return None


async def _application_view(
    request: Request, principal: CurrentPrincipal, application_id: uuid.UUID
) -> ApplicationAttachmentsPublic:
    app_row, round_rows, by_round = await rounds.read_application(
        _sessions(request), principal, application_id
    )
    policy = _settings(request).upload
    views = [RoundPublic.from_row(r, by_round.get(r["round_number"], []), policy) for r in round_rows]
    open_rounds = [v.round_number for v in views if v.state == "open"]
    return ApplicationAttachmentsPublic(
        application_id=application_id,
        applicant_id=app_row["applicant_id"],
        submitted=app_row["submitted_at"] is not None,
        open_round=max(open_rounds) if open_rounds else None,
        rounds=views,
    )


@router.post(
    "/applications/{application_id}/attachments",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        400: _PROBLEM,
        403: _PROBLEM,
        409: _PROBLEM,
        413: _PROBLEM,
        415: _PROBLEM,
        422: _PROBLEM,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def create_attachment(
    request: Request,
    principal: CurrentPrincipal,
    application_id: ApplicationId,
    kind: Annotated[Literal["document", "photo"], Query(description="document (PDF) or photo (JPEG)")],
    filename: Annotated[
        str, Query(min_length=1, max_length=1000, description="the file's name, with extension")
    ],
    document_type: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z][a-z0-9_]{0,63}$",
            description="reference-data kind, e.g. supporting_documents_pdf",
        ),
    ] = None,
    applicant_id: Annotated[
        uuid.UUID | None,
        Query(description="first upload only: the applicant you act for (default: yourself)"),
    ] = None,
    x_notify_email: Annotated[
        str | None, Header(max_length=320, description="where to send the verdict (kept with the attachment)")
    ] = None,
    x_notify_locale: Annotated[
        str | None, Header(description="ja or en; default from Accept-Language")
    ] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> AttachmentPublic:
    """Stream one file (the raw request body) into the open round; it is "checking" until the verdict."""
    settings = _settings(request)
    row = await uploads.upload(
        _sessions(request),
        _blobs(request),
        settings.upload,
        principal,
        uploads.UploadRequest(
            application_id=application_id,
            kind=kind,
            filename=filename,
            document_type=document_type,
            content_type=request.headers.get("content-type"),
            content_length=_content_length(request),
            applicant_id=applicant_id,
            email=x_notify_email.strip() if x_notify_email and "@" in x_notify_email else None,
            locale=_locale(x_notify_locale, accept_language),
        ),
        request.stream(),
    )
    return AttachmentPublic.from_row(row)


@router.get("/applications/{application_id}", responses={403: _PROBLEM, 404: _PROBLEM})
async def read_application_attachments(
    request: Request, principal: CurrentPrincipal, application_id: ApplicationId
) -> ApplicationAttachmentsPublic:
    """Every round of the application with its attachments, states and reasons."""
    return await _application_view(request, principal, application_id)


@router.get("/applications/{application_id}/rounds", responses={403: _PROBLEM, 404: _PROBLEM})
async def read_rounds(
    request: Request, principal: CurrentPrincipal, application_id: ApplicationId
) -> list[RoundPublic]:
    """The application's rounds, oldest first."""
    return (await _application_view(request, principal, application_id)).rounds


@router.get("/applications/{application_id}/rounds/{round_number}", responses={403: _PROBLEM, 404: _PROBLEM})
async def read_round(
    request: Request, principal: CurrentPrincipal, application_id: ApplicationId, round_number: int
) -> RoundPublic:
    """One round with its attachments."""
    row = await rounds.read_round(
        _sessions(request), principal, application_id=application_id, round_number=round_number
    )
    return RoundPublic.from_row(row, row["attachments"], _settings(request).upload)


@router.get("/attachments/{attachment_id}", responses={404: _PROBLEM})
async def read_attachment(
    request: Request, principal: CurrentPrincipal, attachment_id: uuid.UUID
) -> AttachmentPublic:
    """One attachment with its state and reasons."""
    return AttachmentPublic.from_row(
        await rounds.read_attachment(_sessions(request), principal, attachment_id)
    )


@router.get(
    "/attachments/{attachment_id}/content",
    responses={200: {"content": {"application/octet-stream": {}}}, 404: _PROBLEM},
)
async def read_attachment_content(
    request: Request, principal: CurrentPrincipal, attachment_id: uuid.UUID
) -> StreamingResponse:
    """The stored file itself, streamed."""
    row = await rounds.read_attachment(_sessions(request), principal, attachment_id)
    blobs = _blobs(request)
    if not await blobs.exists(row["sha256"]):
        raise errors.attachment_not_found()
    return StreamingResponse(
        blobs.chunks(row["sha256"]),
        media_type=row["content_type"] or "application/octet-stream",
        headers={"ETag": f'"{row["sha256"]}"', "X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/applications/{application_id}/tax-info/fetches",
    status_code=status.HTTP_201_CREATED,
    responses={403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 503: _PROBLEM},
)
async def create_tax_info_fetch(
    request: Request, principal: CurrentPrincipal, application_id: ApplicationId, body: TaxInfoFetchCreate
) -> TaxInfoFetchPublic:
    """Fetch income and resident-tax data from Mynaportal for review (外国人本人 only)."""
    row = await tax_info.fetch(
        _sessions(request),
        _mynaportal(request),
        _settings(request).mynaportal,
        principal,
        application_id=application_id,
        person_name=body.person_name,
        fiscal_year=body.fiscal_year,
    )
    return TaxInfoFetchPublic.from_row(row)


@router.post(
    "/applications/{application_id}/tax-info",
    status_code=status.HTTP_201_CREATED,
    responses={403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 410: _PROBLEM},
)
async def create_tax_info_attachment(
    request: Request, principal: CurrentPrincipal, application_id: ApplicationId, body: TaxInfoRegisterCreate
) -> AttachmentPublic:
    """Register reviewed Mynaportal data as an electronic attachment (accepted without a PDF check)."""
    row = await tax_info.register(
        _sessions(request),
        _blobs(request),
        _settings(request).upload,
        principal,
        application_id=application_id,
        fetch_id=body.fetch_id,
    )
    return AttachmentPublic.from_row(row)
