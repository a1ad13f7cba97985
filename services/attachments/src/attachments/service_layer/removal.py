"""Removing attachments: by the filer in an open round, by a newer face photo, or with a deleted draft.

Blobs are content-addressed and may be shared by several attachments (the same file attached to two
applications): a blob is released only once no attachment row points at it. Releasing and recording a new upload of
the same digest take the same per-digest advisory lock, so a blob is never released under an upload that is about to
point at it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attachments.adapters.applications import ApplicationsClient, ApplicationsUnavailableError
from attachments.adapters.blobstore import BlobStore
from attachments.adapters.orm import application, attachment, attachment_round, tax_info_fetch
from attachments.domain import errors
from attachments.service_layer.access import application_row, may_read, require_attacher, require_filer
from attachments.service_layer.rounds import open_round
from shared.auth import Principal
from shared.events import ApplicationDraftDeleted, AttachmentRemoved
from shared.messaging.outbox import add_event

log = logging.getLogger(__name__)

Row = Mapping[Any, Any]
Reason = Literal["removed", "replaced", "draft_deleted"]


async def lock_digest(session: AsyncSession, sha256: str) -> None:
    """Hold the digest's advisory lock until the transaction ends."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(sha256, 0))))


async def release_blobs(session: AsyncSession, blobs: BlobStore, digests: Iterable[str]) -> list[str]:
    """Release every blob of ``digests`` that no attachment points at any more; return those released."""
    released = []
    for sha256 in sorted(set(digests)):
        await lock_digest(session, sha256)
        still = await session.scalar(
            select(func.count()).select_from(attachment).where(attachment.c.sha256 == sha256)
        )
        if not still:
            await blobs.delete(sha256)
            released.append(sha256)
    return released


async def release_later(
    sessions: async_sessionmaker[AsyncSession], blobs: BlobStore, digests: Sequence[str]
) -> None:
    """Release blobs after the removal committed (a failure here leaves only an unreferenced file behind)."""
    if not digests:
        return
    try:
        async with sessions() as session, session.begin():
            await release_blobs(session, blobs, digests)
    except Exception:
        log.exception("could not release blobs %s; they stay as unreferenced files", list(digests))


async def drop_attachments(
    session: AsyncSession,
    rows: Sequence[Row],
    *,
    reason: Reason,
    removed_by: uuid.UUID | None,
    announce: bool = True,
) -> list[str]:
    """Delete the attachment rows and (unless told not to) announce each removal; return their digests."""
    if not rows:
        return []
    await session.execute(
        delete(attachment).where(attachment.c.attachment_id.in_([r["attachment_id"] for r in rows]))
    )
    if announce:
        for row in rows:
            await add_event(
                session,
                AttachmentRemoved(
                    application_id=row["application_id"],
                    attachment_id=row["attachment_id"],
                    round_number=row["round_number"],
                    kind=row["kind"],
                    document_type=row["document_type"],
                    reason=reason,
                    removed_by=removed_by,
                ),
            )
    return [r["sha256"] for r in rows]


async def round_still_open(
    client: ApplicationsClient | None, authorization: str, application_id: uuid.UUID, round_number: int
) -> bool:
    """Ask applications whether the round is still open there (a submission may not have reached us yet)."""
    if client is None:
        return True
    try:
        facts = await client.facts(application_id, authorization)
    except ApplicationsUnavailableError as exc:
        raise errors.applications_unavailable() from exc
    return facts is not None and facts.open_round == round_number


async def remove(
    sessions: async_sessionmaker[AsyncSession],
    blobs: BlobStore,
    principal: Principal,
    attachment_id: uuid.UUID,
    *,
    applications: ApplicationsClient | None = None,
    authorization: str = "",
) -> None:
    """Remove one attachment (any state) of the open round; its blob goes once nothing else points at it.

    The round must be open here and, when the applications service is configured, there too: a file is never
    taken out of an application that was just submitted.
    """
    require_attacher(principal)  # officers read but never remove
    async with sessions() as session:
        found = (
            await session.execute(
                select(attachment.c.application_id, attachment.c.round_number).where(
                    attachment.c.attachment_id == attachment_id
                )
            )
        ).first()
    if found is not None and not await round_still_open(
        applications, authorization, found.application_id, found.round_number
    ):
        async with sessions() as session:
            owner = await application_row(session, found.application_id)
        if owner is None or not may_read(principal, owner):
            raise errors.attachment_not_found()
        raise errors.round_closed(round_number=found.round_number)
    async with sessions() as session, session.begin():
        found = (
            await session.execute(
                select(attachment.c.application_id).where(attachment.c.attachment_id == attachment_id)
            )
        ).first()
        owner = await application_row(session, found.application_id, lock=True) if found is not None else None
        if (
            found is None
            or owner is None
            or owner["deleted_at"] is not None
            or not may_read(principal, owner)
        ):
            raise errors.attachment_not_found()
        require_filer(principal, owner)  # officers read but never remove
        row = (
            (await session.execute(select(attachment).where(attachment.c.attachment_id == attachment_id)))
            .mappings()
            .first()
        )
        if row is None:  # removed meanwhile
            raise errors.attachment_not_found()
        current = await open_round(session, row["application_id"])
        if current is None or int(current["round_number"]) != row["round_number"]:
            raise errors.round_closed(round_number=row["round_number"])
        digests = await drop_attachments(session, [row], reason="removed", removed_by=principal.user_id)
    await release_later(sessions, blobs, digests)


async def on_draft_deleted(
    session: AsyncSession, event: ApplicationDraftDeleted, *, blobs: BlobStore
) -> None:
    """A draft was deleted: drop its rounds and attachments, release unreferenced blobs, keep a tombstone."""
    existing = await application_row(session, event.application_id, lock=True)
    if existing is None:
        # Deletion overtook the creation (another topic): the tombstone keeps a late draft-created from reviving it.
        await session.execute(
            pg_insert(application)
            .values(
                application_id=event.application_id,
                applicant_id=event.applicant_id,
                recorded_by=event.deleted_by,
                deleted_at=event.occurred_at,
            )
            .on_conflict_do_nothing()
        )
        return
    if existing["submitted_at"] is not None:
        raise ValueError(f"application {event.application_id} was submitted; a draft deletion cannot apply")
    await session.execute(
        update(application)
        .where(application.c.application_id == event.application_id)
        .values(deleted_at=existing["deleted_at"] or event.occurred_at, recipients=[])
    )
    rows = (
        (await session.execute(select(attachment).where(attachment.c.application_id == event.application_id)))
        .mappings()
        .all()
    )
    digests = await drop_attachments(
        session, rows, reason="draft_deleted", removed_by=event.deleted_by, announce=False
    )
    await session.execute(
        delete(tax_info_fetch).where(tax_info_fetch.c.application_id == event.application_id)
    )
    await session.execute(
        delete(attachment_round).where(attachment_round.c.application_id == event.application_id)
    )
    released = await release_blobs(session, blobs, digests)
    log.info(
        "draft %s deleted: %d attachment(s) dropped, %d blob(s) released",
        event.application_id,
        len(rows),
        len(released),
    )
