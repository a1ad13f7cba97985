"""Representation: the applicants a legal representative or relative acts for, and who may act for whom today.

Each applicant gets a stable ``applicant_id``; the access token's ``acts_for`` lists the ids whose conditions hold
on the day the token is issued (a relative acting because the applicant is under 16 stops at the 16th birthday, a
parent's parental authority at the 18th).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import representation as representation_table
from identity.bootstrap import IdentityServices
from identity.domain.lockout import JST
from identity.domain.users import (
    Relationship,
    Representation,
    RepresentationBasis,
    UserCategory,
    require_valid_representation,
)
from identity.service_layer.accounts import get_account
from identity.service_layer.errors import Refused
from shared.events import RepresentationRegistered
from shared.messaging.outbox import add_event
from shared.vocabulary import basis_in_force


@dataclass(frozen=True)
class RecordedRepresentation:
    """A stored representation with its ids."""

    id: uuid.UUID
    applicant_id: uuid.UUID
    representation: Representation
    created_at: datetime


def _same_applicant(a: Representation, b: Representation) -> bool:
    """Return whether two records describe the same applicant (card number, else name and date of birth)."""
    if a.residence_card_number and b.residence_card_number:
        return a.residence_card_number == b.residence_card_number
    return a.name.strip().casefold() == b.name.strip().casefold() and a.date_of_birth == b.date_of_birth


async def list_representations(session: AsyncSession, user_id: uuid.UUID) -> list[RecordedRepresentation]:
    """Return the applicants an account has recorded, oldest first."""
    rows = await session.execute(
        select(representation_table)
        .where(representation_table.c.user_id == user_id)
        .order_by(representation_table.c.created_at, representation_table.c.id)
    )
    return [
        RecordedRepresentation(
            id=r.id,
            applicant_id=r.applicant_id,
            representation=Representation(
                name=r.applicant_name,
                date_of_birth=r.applicant_date_of_birth,
                nationality=r.nationality,
                residence_card_number=r.residence_card_number,
                relationship=Relationship(r.relationship),
                basis=RepresentationBasis(r.basis),
            ),
            created_at=r.created_at,
        )
        for r in rows.all()
    ]


async def record_representation(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    representation: Representation,
    now: datetime,
    filer_category: Literal["legal_representative", "relative"] | None = None,
    correlation: uuid.UUID | None = None,
) -> RecordedRepresentation:
    """Store a validated representation with a new applicant id and publish representation-registered."""
    for existing in await list_representations(session, user_id):
        if _same_applicant(existing.representation, representation):
            raise Refused("representation.duplicate", extra={"applicant_id": str(existing.applicant_id)})
    recorded = RecordedRepresentation(uuid.uuid4(), uuid.uuid4(), representation, now)
    await session.execute(
        insert(representation_table).values(
            id=recorded.id,
            user_id=user_id,
            applicant_id=recorded.applicant_id,
            applicant_name=representation.name.strip(),
            applicant_date_of_birth=representation.date_of_birth,
            nationality=representation.nationality,
            residence_card_number=representation.residence_card_number,
            relationship=representation.relationship.value,
            basis=representation.basis.value,
            created_at=now,
        )
    )
    await add_event(
        session,
        RepresentationRegistered(
            user_id=user_id,
            representation_id=recorded.id,
            applicant_id=recorded.applicant_id,
            basis=representation.basis.value,
            relationship=representation.relationship.value,
            applicant_date_of_birth=representation.date_of_birth,
            filer_category=filer_category,
            correlation_id=correlation,
        ),
    )
    return recorded


async def add_representation(
    services: IdentityServices, *, user_id: uuid.UUID, representation: Representation
) -> RecordedRepresentation:
    """Record one more applicant for a signed-in legal representative or relative."""
    now = services.now()
    async with services.sessions() as session, session.begin():
        account = await get_account(session, user_id, lock=True)
        if account is None:
            raise Refused("account.not_found")
        if account.category not in (UserCategory.LEGAL_REPRESENTATIVE, UserCategory.RELATIVE):
            raise Refused("representation.not_allowed")
        require_valid_representation(
            UserCategory(account.category), representation, today=now.astimezone(JST).date()
        )
        return await record_representation(
            session,
            user_id=user_id,
            representation=representation,
            now=now,
            filer_category=_filer_category(UserCategory(account.category)),
        )


def _filer_category(category: UserCategory) -> Literal["legal_representative", "relative"] | None:
    """Return the category as the representation event names it."""
    if category is UserCategory.LEGAL_REPRESENTATIVE:
        return "legal_representative"
    if category is UserCategory.RELATIVE:
        return "relative"
    return None


def may_act_today(representation: Representation, today: date) -> bool:
    """Return whether the representation's condition holds on ``today``."""
    return basis_in_force(representation.basis, representation.date_of_birth, today)


async def acts_for(session: AsyncSession, user_id: uuid.UUID, *, now: datetime) -> frozenset[uuid.UUID]:
    """Return the applicant ids the account may act for at ``now``."""
    today = now.astimezone(JST).date()
    return frozenset(
        r.applicant_id
        for r in await list_representations(session, user_id)
        if may_act_today(r.representation, today)
    )
