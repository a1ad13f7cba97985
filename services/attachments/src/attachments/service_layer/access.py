"""Who may attach and who may read, from the owner and filers the applications service announced.

An application exists here only once the applications service said so (application-draft-created, or a later
event of the same application); an upload never creates one and never decides whose it is. Filers are the
applicant, the people recorded as filing for the draft, and whoever identity's token says acts for the applicant.
Officers read only submitted applications of their own bureau; operators read nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from attachments.adapters.orm import application
from attachments.domain import errors
from shared.auth import APPLICANT_ROLE, OFFICER_ROLE, Principal

Row = Mapping[Any, Any]


def require_attacher(principal: Principal) -> None:
    """Only applicants (and the people acting for them) attach; officers and operators only read."""
    if not principal.has_role(APPLICANT_ROLE):
        raise errors.applicants_only()


def filers_of(row: Row) -> frozenset[uuid.UUID]:
    """The recorded filers of an application, the applicant always among them."""
    return frozenset({row["applicant_id"], *(uuid.UUID(str(f)) for f in row["filers"] or [])})


def may_file(principal: Principal, row: Row) -> bool:
    """Tell whether the caller may attach to (and remove from) the application."""
    return principal.has_role(APPLICANT_ROLE) and (
        principal.user_id in filers_of(row) or principal.may_act_for(row["applicant_id"])
    )


def may_read(principal: Principal, row: Row) -> bool:
    """Filers read their application; an officer reads a submitted application of their own bureau."""
    if may_file(principal, row):
        return True
    return (
        principal.has_role(OFFICER_ROLE)
        and principal.bureau is not None
        and row["bureau"] == principal.bureau
        and row["submitted_at"] is not None
    )


def require_filer(principal: Principal, row: Row | None) -> Row:
    """Return the live application the caller may file for: 404 when unknown or deleted, 403 otherwise."""
    require_attacher(principal)
    if row is None or row["deleted_at"] is not None:
        raise errors.application_not_found()
    if not may_file(principal, row):
        raise errors.not_owner()
    return row


def require_reader(principal: Principal, row: Row | None) -> Row:
    """Return the live application the caller may read: 404 when unknown or deleted, 403 otherwise."""
    if row is None or row["deleted_at"] is not None:
        raise errors.application_not_found()
    if not may_read(principal, row):
        raise errors.forbidden()
    return row


async def application_row(
    session: AsyncSession, application_id: uuid.UUID, *, lock: bool = False
) -> Row | None:
    """The application's record, optionally locked for the rest of the transaction."""
    query = select(application).where(application.c.application_id == application_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).mappings().first()
