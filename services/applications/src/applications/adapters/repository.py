"""SQLAlchemy repositories of the applications service: applications, attachment summaries, contacts, sequences.

Every method runs in the caller's session and transaction (the unit of work owns commits).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, any_, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.orm import (
    application,
    application_attachment,
    provisional_receipt_sequence,
    receipt_number_sequence,
    user_contact,
)
from applications.adapters.serialization import dump_application, load_application
from applications.domain.application import Application
from applications.domain.states import ApplicationState
from applications.domain.values import AttachmentState, AttachmentSummaryItem

REMOVED = "removed"
"""The state of an attachment summary row whose file was removed at the attachments service (a tombstone)."""


@dataclass
class ApplicationRecord:
    """An application with what the service keeps beside the aggregate: version, bureau and the people."""

    application: Application
    version: int
    bureau: str
    applicant_id: uuid.UUID
    filer_user_id: uuid.UUID
    updated_at: datetime | None = None

    @property
    def id(self) -> uuid.UUID:
        """Return the application id."""
        return uuid.UUID(self.application.id)


@dataclass(frozen=True)
class AttachmentRecord:
    """One attachment as the attachments service reported it."""

    attachment_id: uuid.UUID
    application_id: uuid.UUID
    round_number: int
    kind: str
    reported_kind: str
    state: AttachmentState
    filename: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Contact:
    """A registered user's e-mail address and locale (from identity's user-registered)."""

    user_id: uuid.UUID
    email: str
    locale: str | None


def summary_of_round(
    attachments: Sequence[AttachmentRecord], round_number: int
) -> list[AttachmentSummaryItem]:
    """Return the domain's attachment summary of one round; a rejected file replaced by another is left out."""
    in_round = [a for a in attachments if a.round_number == round_number]
    replaced = {a.kind for a in in_round if a.state != AttachmentState.REJECTED}
    return [
        AttachmentSummaryItem(
            kind=a.kind,
            state=a.state,
            attachment_id=str(a.attachment_id),
            reasons=tuple(str(r.get("code", "")) for r in a.reasons),
        )
        for a in in_round
        if not (a.state == AttachmentState.REJECTED and a.kind in replaced)
    ]


class SqlAlchemyApplicationRepository:
    """Applications stored as a JSON document plus the columns queries filter on."""

    def __init__(self, session: AsyncSession) -> None:
        """Work in the given session."""
        self._session = session

    @staticmethod
    def _row_values(record: ApplicationRecord) -> dict[str, Any]:
        app = record.application
        return {
            "state": app.state.value,
            "procedure_codes": list(app.procedure_codes),
            "provisional_receipt_number": app.provisional_receipt_number,
            "receipt_number": app.receipt_number,
            "over_10mb_declared": app.over_10mb_declared,
            "document": dump_application(app),
            "submitted_at": app.submitted_at,
            "bureau": record.bureau,
        }

    async def add(self, record: ApplicationRecord) -> None:
        """Insert a new application at version 1."""
        record.version = 1
        await self._session.execute(
            application.insert().values(
                id=record.id,
                version=1,
                filer_user_id=record.filer_user_id,
                applicant_id=record.applicant_id,
                created_at=record.application.created_at,
                **self._row_values(record),
            )
        )

    async def save(self, record: ApplicationRecord) -> None:
        """Write the aggregate back and bump its version (the caller holds the row lock)."""
        result = await self._session.execute(
            update(application)
            .where(application.c.id == record.id, application.c.version == record.version)
            .values(version=application.c.version + 1, updated_at=func.now(), **self._row_values(record))
            .returning(application.c.version, application.c.updated_at)
        )
        row = result.one()
        record.version, record.updated_at = row.version, row.updated_at

    async def delete(self, application_id: uuid.UUID) -> None:
        """Delete an application and its attachment summary (a draft that was never submitted)."""
        await self._session.execute(
            delete(application_attachment).where(application_attachment.c.application_id == application_id)
        )
        await self._session.execute(delete(application).where(application.c.id == application_id))

    @staticmethod
    def _record(row: Any) -> ApplicationRecord:
        return ApplicationRecord(
            application=load_application(row.document),
            version=row.version,
            bureau=row.bureau,
            applicant_id=row.applicant_id,
            filer_user_id=row.filer_user_id,
            updated_at=row.updated_at,
        )

    async def get(self, application_id: uuid.UUID, *, for_update: bool = False) -> ApplicationRecord | None:
        """Return the application, locking its row when asked; None when there is none."""
        query = select(application).where(application.c.id == application_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).first()
        return self._record(row) if row is not None else None

    async def _page(
        self, query: Select[Any], *, order: Any, limit: int, offset: int
    ) -> tuple[list[ApplicationRecord], int]:
        total = (await self._session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (await self._session.execute(query.order_by(*order).limit(limit).offset(offset))).all()
        return [self._record(r) for r in rows], int(total)

    async def list_for_applicants(
        self,
        applicant_ids: Sequence[uuid.UUID],
        *,
        state: str | None,
        limit: int,
        offset: int,
        filed_by: uuid.UUID | None = None,
    ) -> tuple[list[ApplicationRecord], int]:
        """Return a page of the applications of these applicants (and those ``filed_by`` filed), newest first."""
        condition: ColumnElement[bool] = application.c.applicant_id.in_(list(applicant_ids))
        if filed_by is not None:
            # The representation in force at filing governs: a filer keeps what they filed after it ends.
            condition = or_(
                condition, and_(application.c.filer_user_id == filed_by, application.c.state != "draft")
            )
        query = select(application).where(condition)
        if state is not None:
            query = query.where(application.c.state == state)
        return await self._page(
            query, order=(application.c.created_at.desc(), application.c.id), limit=limit, offset=offset
        )

    async def queue(
        self,
        *,
        bureau: str,
        states: Sequence[str],
        procedure: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[ApplicationRecord], int]:
        """Return a page of a bureau's applications in these states, oldest submission first, and the total."""
        query = select(application).where(
            application.c.bureau == bureau, application.c.state.in_(list(states))
        )
        if procedure is not None:
            query = query.where(literal(procedure) == any_(application.c.procedure_codes))
        return await self._page(
            query, order=(application.c.submitted_at.asc(), application.c.id), limit=limit, offset=offset
        )

    async def lock_submitted(self, *, limit: int) -> list[ApplicationRecord]:
        """Lock up to ``limit`` submitted applications that no other transaction holds (SKIP LOCKED)."""
        query = (
            select(application)
            .where(application.c.state == ApplicationState.SUBMITTED.value)
            .order_by(application.c.submitted_at, application.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._record(r) for r in (await self._session.execute(query)).all()]

    # -- attachments --------------------------------------------------------------------------------------
    async def attachments(self, application_id: uuid.UUID) -> list[AttachmentRecord]:
        """Return the attachments reported for an application, by round and time."""
        rows = (
            await self._session.execute(
                select(application_attachment)
                .where(
                    application_attachment.c.application_id == application_id,
                    application_attachment.c.state != REMOVED,
                )
                .order_by(application_attachment.c.round_number, application_attachment.c.updated_at)
            )
        ).all()
        return [
            AttachmentRecord(
                attachment_id=r.attachment_id,
                application_id=r.application_id,
                round_number=r.round_number,
                kind=r.kind,
                reported_kind=r.reported_kind,
                state=AttachmentState(r.state),
                filename=r.filename,
                reasons=list(r.reasons),
                warnings=list(r.warnings),
                updated_at=r.updated_at,
            )
            for r in rows
        ]

    async def record_attachment(self, record: AttachmentRecord, *, only_if_new: bool = False) -> None:
        """Insert or update an attachment's state (``only_if_new``: an upload never overwrites a verdict)."""
        values = {
            "attachment_id": record.attachment_id,
            "application_id": record.application_id,
            "round_number": record.round_number,
            "kind": record.kind,
            "reported_kind": record.reported_kind,
            "state": record.state.value,
            "filename": record.filename,
            "reasons": record.reasons,
            "warnings": record.warnings,
        }
        statement = pg_insert(application_attachment).values(**values)
        if only_if_new:
            await self._session.execute(statement.on_conflict_do_nothing())
            return
        changed = {
            k: v for k, v in values.items() if k != "attachment_id" and not (k == "filename" and v is None)
        }
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[application_attachment.c.attachment_id],
                set_={**changed, "updated_at": func.now()},
                # A verdict arriving after the removal (another topic) does not bring the file back.
                where=application_attachment.c.state != REMOVED,
            )
        )

    async def remove_attachment(
        self, *, attachment_id: uuid.UUID, application_id: uuid.UUID, round_number: int, kind: str
    ) -> None:
        """Mark an attachment removed (kept as a tombstone, so a late verdict or upload event cannot revive it)."""
        await self._session.execute(
            pg_insert(application_attachment)
            .values(
                attachment_id=attachment_id,
                application_id=application_id,
                round_number=round_number,
                kind=kind,
                reported_kind=kind,
                state=REMOVED,
            )
            .on_conflict_do_update(
                index_elements=[application_attachment.c.attachment_id],
                set_={"state": REMOVED, "updated_at": func.now()},
            )
        )

    # -- contacts -----------------------------------------------------------------------------------------
    async def contact(self, user_id: uuid.UUID) -> Contact | None:
        """Return a registered user's address, or None."""
        row = (
            await self._session.execute(select(user_contact).where(user_contact.c.user_id == user_id))
        ).first()
        return Contact(user_id=row.user_id, email=row.email, locale=row.locale) if row else None

    async def record_contact(
        self, *, user_id: uuid.UUID, email: str, locale: str | None, category: str | None
    ) -> None:
        """Insert or update a registered user's address."""
        values = {"user_id": user_id, "email": email, "locale": locale, "category": category}
        await self._session.execute(
            pg_insert(user_contact)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[user_contact.c.user_id],
                set_={"email": email, "locale": locale, "category": category, "updated_at": func.now()},
            )
        )

    # -- sequences ----------------------------------------------------------------------------------------
    async def next_provisional_sequence(self, day: date) -> int:
        """Return the next provisional sequence of a Japan date (row-locked until the transaction ends)."""
        table = provisional_receipt_sequence
        result = await self._session.execute(
            pg_insert(table)
            .values(day=day, last_value=1)
            .on_conflict_do_update(index_elements=[table.c.day], set_={"last_value": table.c.last_value + 1})
            .returning(table.c.last_value)
        )
        return int(result.scalar_one())

    async def next_receipt_sequence(self, bureau: str, day: date) -> int:
        """Return the next official receipt sequence of a bureau and Japan date."""
        table = receipt_number_sequence
        result = await self._session.execute(
            pg_insert(table)
            .values(bureau=bureau, day=day, last_value=1)
            .on_conflict_do_update(
                index_elements=[table.c.bureau, table.c.day], set_={"last_value": table.c.last_value + 1}
            )
            .returning(table.c.last_value)
        )
        return int(result.scalar_one())
