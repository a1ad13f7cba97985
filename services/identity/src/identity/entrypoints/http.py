"""HTTP routes of the identity service."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, EmailStr

from identity.adapters.orm import user_account
from shared.events import UserRegistered
from shared.messaging.outbox import add_event
from shared.service import ServiceRuntime

router = APIRouter(prefix="/api/identity", tags=["identity"])


class ProvisionalRegistrationCreate(BaseModel):
    """Minimal registration used to prove the platform end to end (replaced by the JPKI registration)."""

    category: Literal["foreign_national", "legal_representative", "relative"]
    email: EmailStr
    locale: Literal["ja", "en"] | None = None


class RegistrationPublic(BaseModel):
    """The registered account."""

    user_id: uuid.UUID
    category: str
    email: str


@router.post("/provisional-registrations", status_code=201, response_model=RegistrationPublic)
async def create_provisional_registration(
    body: ProvisionalRegistrationCreate, request: Request
) -> RegistrationPublic:
    """Record an account and publish user-registered in the same transaction (platform proof path)."""
    runtime: ServiceRuntime = request.app.state.runtime
    user_id = uuid.uuid4()
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            user_account.insert().values(
                id=user_id, category=body.category, email=body.email, locale=body.locale
            )
        )
        await add_event(
            session,
            UserRegistered(user_id=user_id, category=body.category, email=body.email, locale=body.locale),
        )
    return RegistrationPublic(user_id=user_id, category=body.category, email=body.email)
