"""Attachment rounds: round 1 before submission, later rounds opened by ApplicationReturned, each with the 参考様式9
box it needs as the applications service (its owner, ADR 0014) says in those events.

Also the read side: an application's rounds with their attachments, limits and states.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from attachments.adapters.orm import application, attachment, attachment_round
from attachments.config import UploadPolicy
from attachments.domain import errors
from attachments.domain.model import AttachmentState, RoundUsage
from attachments.service_layer.access import application_row, require_reader
from shared.auth import Principal
from shared.events import ApplicationReturned, ApplicationSubmitted, Event

log = logging.getLogger(__name__)

Row = Mapping[Any, Any]


def now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


async def open_round(session: AsyncSession, application_id: uuid.UUID) -> Row | None:
    """The open round of an application (the latest one not closed), if any."""
    return (
        (
            await session.execute(
                select(attachment_round)
                .where(
                    attachment_round.c.application_id == application_id,
                    attachment_round.c.closed_at.is_(None),
                )
                .order_by(attachment_round.c.round_number.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )


async def latest_round_number(session: AsyncSession, application_id: uuid.UUID) -> int | None:
    """The number of the application's latest round."""
    value = await session.scalar(
        select(func.max(attachment_round.c.round_number)).where(
            attachment_round.c.application_id == application_id
        )
    )
    return int(value) if value is not None else None


async def usage(session: AsyncSession, application_id: uuid.UUID, round_number: int) -> RoundUsage:
    """Bytes and files per kind in the round, not counting rejected files."""
    rows = await session.execute(
        select(attachment.c.kind, func.count(), func.coalesce(func.sum(attachment.c.size_bytes), 0))
        .where(
            attachment.c.application_id == application_id,
            attachment.c.round_number == round_number,
            attachment.c.state != AttachmentState.REJECTED.value,
        )
        .group_by(attachment.c.kind)
    )
    files: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for kind, count, size in rows:
        files[kind] = int(count)
        sizes[kind] = int(size)
    return RoundUsage(bytes_by_kind=sizes, files_by_kind=files)


async def record_first_upload(
    session: AsyncSession, *, application_id: uuid.UUID, applicant_id: uuid.UUID, recorded_by: uuid.UUID
) -> None:
    """Record the owner at the first upload and open round 1 (harmless when another request won the race)."""
    created = await session.execute(
        pg_insert(application)
        .values(application_id=application_id, applicant_id=applicant_id, recorded_by=recorded_by)
        .on_conflict_do_nothing()
        .returning(application.c.application_id)
    )
    if created.first() is not None:
        await session.execute(
            pg_insert(attachment_round)
            .values(application_id=application_id, round_number=1)
            .on_conflict_do_nothing()
        )


async def read_application(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, application_id: uuid.UUID
) -> tuple[Row, list[Row], dict[int, list[Row]]]:
    """The application record, its rounds (oldest first) and each round's attachments (oldest first)."""
    async with sessions() as session:
        row = await application_row(session, application_id)
        if row is None:
            raise errors.application_not_found()
        require_reader(principal, row["applicant_id"])
        rounds = list(
            (
                await session.execute(
                    select(attachment_round)
                    .where(attachment_round.c.application_id == application_id)
                    .order_by(attachment_round.c.round_number)
                )
            )
            .mappings()
            .all()
        )
        files = (
            (
                await session.execute(
                    select(attachment)
                    .where(attachment.c.application_id == application_id)
                    .order_by(attachment.c.uploaded_at, attachment.c.attachment_id)
                )
            )
            .mappings()
            .all()
        )
    by_round: dict[int, list[Row]] = defaultdict(list)
    for file in files:
        by_round[file["round_number"]].append(file)
    return row, [dict(r) for r in rounds], dict(by_round)


async def read_round(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    application_id: uuid.UUID,
    round_number: int,
) -> Row:
    """One round with its attachments under ``"attachments"``."""
    _, rounds, by_round = await read_application(sessions, principal, application_id)
    for round_row in rounds:
        if round_row["round_number"] == round_number:
            return {**round_row, "attachments": by_round.get(round_number, [])}
    raise errors.round_not_found(round_number=round_number)


def round_bytes(files: Sequence[Row], policy: UploadPolicy) -> int:
    """Bytes a round's files take against its limit (rejected files do not count)."""
    return sum(
        int(f["size_bytes"])
        for f in files
        if f["kind"] in policy.round_limit_kinds and f["state"] != AttachmentState.REJECTED.value
    )


# ---------------------------------------------------------------- events from the applications service


async def on_application_submitted(session: AsyncSession, event: ApplicationSubmitted) -> None:
    """Submission: the applicant is now known for sure, round 1 closes, the recipients are kept for verdicts."""
    recipients = [r.model_dump(mode="json") for r in event.recipients]
    existing = await application_row(session, event.application_id, lock=True)
    if existing is None:
        await session.execute(
            pg_insert(application)
            .values(
                application_id=event.application_id,
                applicant_id=event.applicant_id,
                recorded_by=event.filer_user_id,
                recipients=recipients,
                submitted_at=event.occurred_at,
            )
            .on_conflict_do_nothing()
        )
    else:
        if existing["applicant_id"] != event.applicant_id:
            log.warning(
                "application %s: applicant recorded at upload differs from the submitted one; using the latter",
                event.application_id,
            )
        await session.execute(
            update(application)
            .where(application.c.application_id == event.application_id)
            .values(
                applicant_id=event.applicant_id,
                recipients=recipients or existing["recipients"],
                submitted_at=existing["submitted_at"] or event.occurred_at,
            )
        )
    await session.execute(
        pg_insert(attachment_round)
        .values(application_id=event.application_id, round_number=1, closed_at=event.occurred_at)
        .on_conflict_do_nothing()
    )
    await session.execute(
        update(attachment_round)
        .where(
            attachment_round.c.application_id == event.application_id,
            attachment_round.c.round_number == 1,
            attachment_round.c.closed_at.is_(None),
        )
        .values(closed_at=event.occurred_at)
    )
    if event.declaration_form9 is not None:
        await _record_declaration(session, event, 1, event.declaration_form9.tick)


async def _record_declaration(
    session: AsyncSession, event: ApplicationSubmitted | ApplicationReturned, round_number: int, tick: str
) -> None:
    """Keep the 参考様式9 box a round needs, as its owner decided."""
    await session.execute(
        update(attachment_round)
        .where(
            attachment_round.c.application_id == event.application_id,
            attachment_round.c.round_number == round_number,
        )
        .values(declaration=tick, declared_at=event.occurred_at)
    )


async def on_application_returned(session: AsyncSession, event: ApplicationReturned) -> None:
    """Documents requested: earlier rounds close and round ``round_number`` opens with its own limit."""
    existing = await application_row(session, event.application_id, lock=True)
    if existing is None:
        # Submission precedes return on the application's key, so this is a bug or lost history: dead-letter it.
        raise LookupError(f"application {event.application_id} returned before it was submitted")
    if event.round_number < 2:
        raise ValueError(f"application {event.application_id}: returned with round {event.round_number} < 2")
    await session.execute(
        update(attachment_round)
        .where(
            attachment_round.c.application_id == event.application_id,
            attachment_round.c.round_number < event.round_number,
            attachment_round.c.closed_at.is_(None),
        )
        .values(closed_at=event.occurred_at)
    )
    await session.execute(
        pg_insert(attachment_round)
        .values(application_id=event.application_id, round_number=event.round_number)
        .on_conflict_do_nothing()
    )
    if event.declaration_form9 is not None:
        await _record_declaration(session, event, event.round_number, event.declaration_form9.tick)
    if event.recipients:
        await session.execute(
            update(application)
            .where(application.c.application_id == event.application_id)
            .values(recipients=[r.model_dump(mode="json") for r in event.recipients])
        )


async def close_open_rounds(session: AsyncSession, event: Event) -> None:
    """Review resumed, completed or the application ended: no round stays open."""
    application_id = getattr(event, "application_id", None)
    if application_id is None:
        return
    await session.execute(
        update(attachment_round)
        .where(
            attachment_round.c.application_id == application_id,
            attachment_round.c.closed_at.is_(None),
        )
        .values(closed_at=event.occurred_at)
    )


async def read_attachment(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, attachment_id: uuid.UUID
) -> Row:
    """One attachment, if the caller may see its application (otherwise it does not exist for them)."""
    async with sessions() as session:
        row = (
            (await session.execute(select(attachment).where(attachment.c.attachment_id == attachment_id)))
            .mappings()
            .first()
        )
        owner = await application_row(session, row["application_id"]) if row is not None else None
    if row is None or owner is None:
        raise errors.attachment_not_found()
    try:
        require_reader(principal, owner["applicant_id"])
    except errors.Refusal:
        raise errors.attachment_not_found() from None
    return row
