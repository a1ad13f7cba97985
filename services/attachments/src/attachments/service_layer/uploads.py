"""Upload intake: authorise, check the round and its limits, stream into the blob store, record and announce.

The body is never held whole: it is read chunk by chunk, the first bytes decide the type at once, and the upload
is refused with 413 as soon as the announced length or the bytes counted so far exceed what the round has left.
The attachment row and its AttachmentUploaded event are written in one transaction (outbox).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attachments.adapters.blobstore import BlobStore, StoredBlob
from attachments.adapters.orm import attachment
from attachments.config import UploadPolicy
from attachments.domain import errors
from attachments.domain.model import (
    SNIFF_BYTES,
    AttachmentState,
    Budget,
    UploadKind,
    check_content,
    check_extension,
    clean_filename,
    upload_budget,
)
from attachments.service_layer.access import application_row, require_attacher, resolve_owner
from attachments.service_layer.rounds import latest_round_number, open_round, record_first_upload, usage
from shared.auth import Principal
from shared.events import AttachmentUploaded
from shared.messaging.outbox import add_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadRequest:
    """What the client says about the file it sends."""

    application_id: uuid.UUID
    kind: UploadKind
    filename: str
    document_type: str | None = None
    content_type: str | None = None
    content_length: int | None = None
    applicant_id: uuid.UUID | None = None
    email: str | None = None
    locale: str | None = None


async def _plan(
    session: AsyncSession, principal: Principal, request: UploadRequest, policy: UploadPolicy, *, lock: bool
) -> tuple[uuid.UUID, int, Budget]:
    """Authorise, find the open round and return (applicant, round number, byte budget)."""
    row = await application_row(session, request.application_id, lock=lock)
    owner = resolve_owner(principal, row, request.applicant_id)
    if owner.known:
        current = await open_round(session, request.application_id)
        if current is None:
            raise errors.round_closed(round_number=await latest_round_number(session, request.application_id))
        round_number = int(current["round_number"])
    else:
        round_number = 1
    budget = upload_budget(
        kind=request.kind,
        round_number=round_number,
        usage=await usage(session, request.application_id, round_number),
        round_max_bytes=policy.round_max_bytes,
        round_limit_kinds=policy.round_limit_kinds,
        photo_max_bytes=policy.photo_max_bytes,
        max_files=policy.max_files_per_round,
    )
    return owner.applicant_id, round_number, budget


async def _stream(
    body: AsyncIterator[bytes],
    blobs: BlobStore,
    request: UploadRequest,
    *,
    budget: Budget,
    round_number: int,
) -> StoredBlob:
    """Stream the body into a new blob; type-check the first bytes; stop at the budget. Nothing stays on refusal."""
    writer = blobs.writer()
    head = b""
    sniffed = False
    try:
        async for chunk in body:
            if not chunk:
                continue
            if writer.size_bytes + len(head) + len(chunk) > budget.max_bytes:
                raise budget.refusal(
                    kind=request.kind, round_number=round_number, incoming=request.content_length
                )
            if not sniffed:
                head += chunk
                if len(head) < SNIFF_BYTES:
                    continue
                check_content(request.kind, head)
                sniffed = True
                chunk, head = head, b""
            await writer.write(chunk)
        if not sniffed:
            if not head:
                raise errors.empty_file()
            check_content(request.kind, head)
            await writer.write(head)
        if request.content_length is not None and writer.size_bytes != request.content_length:
            raise errors.incomplete_upload(expected=request.content_length, received=writer.size_bytes)
        return await writer.commit()
    except BaseException:
        await writer.abort()
        raise


async def upload(
    sessions: async_sessionmaker[AsyncSession],
    blobs: BlobStore,
    policy: UploadPolicy,
    principal: Principal,
    request: UploadRequest,
    body: AsyncIterator[bytes],
) -> Mapping[Any, Any]:
    """Take one file into the application's open round; return the attachment row (state "checking")."""
    require_attacher(principal)
    filename = clean_filename(request.filename, max_chars=policy.max_filename_chars)
    check_extension(request.kind, filename)
    async with sessions() as session:
        _, round_number, budget = await _plan(session, principal, request, policy, lock=False)
    if request.content_length is not None:
        if request.content_length > budget.max_bytes:
            raise budget.refusal(
                kind=request.kind, round_number=round_number, incoming=request.content_length
            )
        if request.content_length == 0:
            raise errors.empty_file()
    stored = await _stream(body, blobs, request, budget=budget, round_number=round_number)
    attachment_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        # Serialise uploads per application, then check again: another upload may have used the room meanwhile.
        applicant_id, round_number, budget = await _plan(session, principal, request, policy, lock=True)
        if stored.size_bytes > budget.max_bytes:
            raise budget.refusal(kind=request.kind, round_number=round_number, incoming=stored.size_bytes)
        await record_first_upload(
            session,
            application_id=request.application_id,
            applicant_id=applicant_id,
            recorded_by=principal.user_id,
        )
        values = {
            "attachment_id": attachment_id,
            "application_id": request.application_id,
            "round_number": round_number,
            "kind": request.kind,
            "document_type": request.document_type,
            "filename": filename,
            "content_type": request.content_type,
            "size_bytes": stored.size_bytes,
            "sha256": stored.sha256,
            "state": AttachmentState.CHECKING.value,
            "uploaded_by": principal.user_id,
            "uploader_email": request.email,
            "uploader_locale": request.locale,
        }
        await session.execute(insert(attachment).values(**values))
        await add_event(
            session,
            AttachmentUploaded(
                application_id=request.application_id,
                attachment_id=attachment_id,
                round_number=round_number,
                kind=request.kind,
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
                filename=filename,
                uploaded_by=principal.user_id,
                document_type=request.document_type,
            ),
        )
        row = (
            (await session.execute(select(attachment).where(attachment.c.attachment_id == attachment_id)))
            .mappings()
            .one()
        )
    log.info(
        "attachment %s stored for application %s round %d (%d bytes)",
        attachment_id,
        request.application_id,
        round_number,
        stored.size_bytes,
    )
    return row
