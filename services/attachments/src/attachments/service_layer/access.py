"""Who may read and who may attach: the applicant, people linked to them (acts_for), officers read only."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attachments.adapters.orm import application
from attachments.domain import errors
from shared.auth import APPLICANT_ROLE, OFFICER_ROLE, Principal


@dataclass(frozen=True)
class Owner:
    """Whom an upload is for, once the caller is authorised."""

    applicant_id: uuid.UUID
    known: bool  # False when this is the application's first record


def require_attacher(principal: Principal) -> None:
    """Only applicants (and the people acting for them) attach; officers and operators only read."""
    if not principal.has_role(APPLICANT_ROLE):
        raise errors.applicants_only()


def resolve_owner(principal: Principal, row: Mapping[Any, Any] | None, requested: uuid.UUID | None) -> Owner:
    """Authorise an upload: the recorded applicant, or (first upload) the caller or an applicant they act for."""
    if row is not None:
        applicant_id: uuid.UUID = row["applicant_id"]
        if not principal.may_act_for(applicant_id):
            raise errors.not_owner()
        if requested is not None and requested != applicant_id:
            raise errors.applicant_mismatch()
        return Owner(applicant_id, known=True)
    applicant_id = requested or principal.user_id
    if not principal.may_act_for(applicant_id):
        raise errors.cannot_act_for()
    return Owner(applicant_id, known=False)


def require_reader(principal: Principal, applicant_id: uuid.UUID) -> None:
    """Officers read every application; others only those of applicants they are or act for."""
    if principal.has_role(OFFICER_ROLE) or principal.may_act_for(applicant_id):
        return
    raise errors.forbidden()


async def application_row(
    session: AsyncSession, application_id: uuid.UUID, *, lock: bool = False
) -> Mapping[Any, Any] | None:
    """The application's record, optionally locked for the rest of the transaction."""
    query = select(application).where(application.c.application_id == application_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()
