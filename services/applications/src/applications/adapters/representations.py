"""The representations recorded at identity, as applications keeps them (from representation-registered).

A legal representative's or relative's right to file is read from this record (the applicant's date of birth, the
relationship, the basis), never from what a draft says (``docs/representation.md``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Column, Date, DateTime, Index, Table, Text, func, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.orm import metadata

representation_record = Table(
    "representation_record",
    metadata,
    Column("representation_id", UUID(as_uuid=True), primary_key=True),
    Column("filer_user_id", UUID(as_uuid=True), nullable=False),
    Column("applicant_id", UUID(as_uuid=True), nullable=False),
    Column("filer_category", Text, nullable=True),
    Column("relationship", Text, nullable=False),
    Column("basis", Text, nullable=False),
    Column("applicant_date_of_birth", Date, nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index(
    "ix_representation_record_filer_user_id_applicant_id",
    representation_record.c.filer_user_id,
    representation_record.c.applicant_id,
)


@dataclass(frozen=True)
class RecordedRepresentation:
    """Who files for whom, on which basis, and the applicant's date of birth as recorded at identity."""

    representation_id: uuid.UUID
    filer_user_id: uuid.UUID
    applicant_id: uuid.UUID
    filer_category: str | None
    relationship: str
    basis: str
    applicant_date_of_birth: date | None
    registered_at: datetime


async def record_representation(session: AsyncSession, rep: RecordedRepresentation) -> None:
    """Insert or update a representation (a redelivered event changes nothing)."""
    values = {
        "representation_id": rep.representation_id,
        "filer_user_id": rep.filer_user_id,
        "applicant_id": rep.applicant_id,
        "filer_category": rep.filer_category,
        "relationship": rep.relationship,
        "basis": rep.basis,
        "applicant_date_of_birth": rep.applicant_date_of_birth,
        "registered_at": rep.registered_at,
    }
    await session.execute(
        pg_insert(representation_record)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[representation_record.c.representation_id],
            set_={k: v for k, v in values.items() if k != "representation_id"} | {"updated_at": func.now()},
        )
    )


async def find_representation(
    session: AsyncSession, *, filer_user_id: uuid.UUID, applicant_id: uuid.UUID
) -> RecordedRepresentation | None:
    """Return the newest representation of an applicant by a filer, or None."""
    row = (
        await session.execute(
            select(representation_record)
            .where(
                representation_record.c.filer_user_id == filer_user_id,
                representation_record.c.applicant_id == applicant_id,
            )
            .order_by(representation_record.c.registered_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return RecordedRepresentation(
        representation_id=row.representation_id,
        filer_user_id=row.filer_user_id,
        applicant_id=row.applicant_id,
        filer_category=row.filer_category,
        relationship=row.relationship,
        basis=row.basis,
        applicant_date_of_birth=row.applicant_date_of_birth,
        registered_at=row.registered_at,
    )
