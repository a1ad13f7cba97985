"""Upload intake: authorise, check the round and its limits, stream into the blob store, record and announce.

The application must already be known from the applications service (its owner and filers come only from there);
an upload never creates it. The body is never held whole: it is read chunk by chunk, the first bytes decide the type
at once (against the types the document slot accepts, never what the client declares), and the upload is refused
with 413 as soon as the announced length or the bytes counted so far exceed what the round has left. The attachment
row and its AttachmentUploaded event are written in one transaction (outbox); a new face photo replaces the round's
previous one in the same transaction (AttachmentRemoved).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attachments.adapters.blobstore import BlobStore, StoredBlob
from attachments.adapters.orm import attachment
from attachments.config import UploadPolicy
from attachments.domain import errors
from attachments.domain.model import (
    AttachmentState,
    Budget,
    clean_filename,
    upload_budget,
)
from attachments.domain.slots import PDF_WINDOW, FileType, Slot, UploadKind, accepted_type, slot_table
from attachments.service_layer.access import application_row, require_attacher, require_filer
from attachments.service_layer.removal import drop_attachments, lock_digest, release_later
from attachments.service_layer.rounds import latest_round_number, open_round, usage
from shared.auth import Principal
from shared.events import AttachmentUploaded
from shared.messaging.outbox import add_event

log = logging.getLogger(__name__)

SNIFF_BYTES = PDF_WINDOW


@dataclass(frozen=True)
class UploadRequest:
    """What the client says about the file it sends (the type is decided by the content, not by this)."""

    application_id: uuid.UUID
    filename: str
    kind: UploadKind | None = None
    document_type: str | None = None
    content_length: int | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Plan:
    """Where an upload goes: the round, its byte budget and the files the new one replaces."""

    round_number: int
    budget: Budget
    replaces: list[Mapping[Any, Any]]


async def _replaced(
    session: AsyncSession, application_id: uuid.UUID, round_number: int, slot: Slot
) -> list[Mapping[Any, Any]]:
    """The round's files a new file of the slot replaces (one face photo per round)."""
    if slot.one_per_round is None:
        return []
    group = [s.code for s in slot_table().slots.values() if s.one_per_round == slot.one_per_round]
    rows = await session.execute(
        select(attachment).where(
            attachment.c.application_id == application_id,
            attachment.c.round_number == round_number,
            or_(
                attachment.c.document_type.in_(group),
                (attachment.c.document_type.is_(None)) & (attachment.c.kind == slot.kind),
            ),
        )
    )
    return list(rows.mappings().all())


async def _plan(
    session: AsyncSession,
    principal: Principal,
    request: UploadRequest,
    slot: Slot,
    policy: UploadPolicy,
    *,
    lock: bool,
) -> Plan:
    """Authorise against the recorded owner and filers, find the open round and the byte budget."""
    require_filer(principal, await application_row(session, request.application_id, lock=lock))
    current = await open_round(session, request.application_id)
    if current is None:
        raise errors.round_closed(round_number=await latest_round_number(session, request.application_id))
    round_number = int(current["round_number"])
    replaces = await _replaced(session, request.application_id, round_number, slot)
    budget = upload_budget(
        kind=slot.kind,
        round_number=round_number,
        usage=await usage(
            session, request.application_id, round_number, leaving=[r["attachment_id"] for r in replaces]
        ),
        round_max_bytes=policy.round_max_bytes,
        round_limit_kinds=policy.round_limit_kinds,
        photo_max_bytes=policy.photo_max_bytes,
        max_files=policy.max_files_per_round,
    )
    return Plan(round_number=round_number, budget=budget, replaces=replaces)


async def _stream(
    body: AsyncIterator[bytes],
    blobs: BlobStore,
    request: UploadRequest,
    slot: Slot,
    *,
    budget: Budget,
    round_number: int,
) -> tuple[StoredBlob, FileType]:
    """Stream the body into a new blob; type the first bytes; stop at the budget. Nothing stays on refusal."""
    writer = blobs.writer()
    head = b""
    file_type: FileType | None = None
    try:
        async for chunk in body:
            if not chunk:
                continue
            if writer.size_bytes + len(head) + len(chunk) > budget.max_bytes:
                raise budget.refusal(
                    kind=slot.kind, round_number=round_number, incoming=request.content_length
                )
            if file_type is None:
                head += chunk
                if len(head) < SNIFF_BYTES:
                    continue
                file_type = accepted_type(slot, head)
                chunk, head = head, b""
            await writer.write(chunk)
        if file_type is None:
            if not head:
                raise errors.empty_file()
            file_type = accepted_type(slot, head)
            await writer.write(head)
        if request.content_length is not None and writer.size_bytes != request.content_length:
            raise errors.incomplete_upload(expected=request.content_length, received=writer.size_bytes)
        return await writer.commit(), file_type
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
    slot = slot_table().resolve(request.document_type, request.kind)
    filename = clean_filename(request.filename, max_chars=policy.max_filename_chars)
    check_extension(slot, filename)
    async with sessions() as session:
        plan = await _plan(session, principal, request, slot, policy, lock=False)
    budget, round_number = plan.budget, plan.round_number
    if request.content_length is not None:
        if request.content_length > budget.max_bytes:
            raise budget.refusal(kind=slot.kind, round_number=round_number, incoming=request.content_length)
        if request.content_length == 0:
            raise errors.empty_file()
    stored, file_type = await _stream(body, blobs, request, slot, budget=budget, round_number=round_number)
    attachment_id = uuid.uuid4()
    replaced: Sequence[str] = ()
    async with sessions() as session, session.begin():
        # Serialise uploads per application, then check again: another upload may have used the room meanwhile.
        plan = await _plan(session, principal, request, slot, policy, lock=True)
        budget, round_number = plan.budget, plan.round_number
        if stored.size_bytes > budget.max_bytes:
            raise budget.refusal(kind=slot.kind, round_number=round_number, incoming=stored.size_bytes)
        await lock_digest(session, stored.sha256)
        if not await blobs.exists(stored.sha256):
            raise errors.upload_retry()  # a removal released the same content between our write and now
        replaced = await drop_attachments(
            session, plan.replaces, reason="replaced", removed_by=principal.user_id
        )
        values = {
            "attachment_id": attachment_id,
            "application_id": request.application_id,
            "round_number": round_number,
            "kind": slot.kind,
            "document_type": slot.code,
            "filename": filename,
            "content_type": file_type.media_type,
            "size_bytes": stored.size_bytes,
            "sha256": stored.sha256,
            "state": AttachmentState.CHECKING.value,
            "uploaded_by": principal.user_id,
            "uploader_locale": request.locale,
        }
        await session.execute(insert(attachment).values(**values))
        await add_event(
            session,
            AttachmentUploaded(
                application_id=request.application_id,
                attachment_id=attachment_id,
                round_number=round_number,
                kind=slot.kind,
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
                filename=filename,
                uploaded_by=principal.user_id,
                document_type=slot.code,
            ),
        )
        row = (
            (await session.execute(select(attachment).where(attachment.c.attachment_id == attachment_id)))
            .mappings()
            .one()
        )
    await release_later(sessions, blobs, [d for d in replaced if d != stored.sha256])
    log.info(
        "attachment %s stored for application %s round %d (%d bytes)",
        attachment_id,
        request.application_id,
        round_number,
        stored.size_bytes,
    )
    return row


def check_extension(slot: Slot, filename: str) -> None:
    """Refuse a file name whose extension does not fit the slot's types (the content decides the type anyway)."""
    lowered = filename.lower()
    extensions = {"pdf": (".pdf",), "jpeg": (".jpg", ".jpeg")}
    if not any(lowered.endswith(ext) for t in slot.accepts for ext in extensions.get(t.code, ())):
        expected = " / ".join(t.label for t in slot.accepts)
        raise errors.wrong_extension(kind=slot.kind, filename=filename, expected=expected)
