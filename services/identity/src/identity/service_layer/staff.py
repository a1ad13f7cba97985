"""Officer and operator accounts: created by an administrator's command, never through the public API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, insert, select

from identity.adapters.orm import user_account
from identity.bootstrap import IdentityServices
from identity.domain.auth_id import format_auth_id
from identity.domain.link_token import LinkPurpose
from identity.service_layer.accounts import PENDING, link_url, locale_of, store_link
from identity.service_layer.passwords import new_auth_id
from identity.service_layer.registration import SETUP_PAGE
from shared.events import PasswordSetupRequested
from shared.messaging.outbox import add_event

StaffRole = Literal["officer", "operator"]


@dataclass(frozen=True)
class StaffAccount:
    """A new staff account: its 認証ID (display form) and one-time set-up link."""

    user_id: uuid.UUID
    auth_id: str
    setup_url: str | None
    setup_expires_at: datetime | None
    created: bool = True

    def __repr__(self) -> str:
        return f"StaffAccount(user_id={self.user_id}, auth_id={self.auth_id}, setup_url=<hidden>)"


class StaffAccountConflict(Exception):
    """A staff account with this e-mail exists with another role or bureau (nothing was changed)."""

    def __init__(self, *, email: str, role: str, bureau: str | None) -> None:
        """Name what the existing account has."""
        super().__init__(
            f"{email} already has a staff account as {role} of bureau {bureau}; nothing was changed"
        )


async def create_staff_account(
    services: IdentityServices, *, email: str, bureau: str, role: StaffRole, locale: str | None = None
) -> StaffAccount:
    """Create an officer or operator account with its role and bureau; the person sets the password by the link.

    Idempotent for one e-mail: the same role and bureau again returns the existing account (``created`` False, no
    new link); another role or bureau raises StaffAccountConflict.
    """
    now = services.now()
    user_id = uuid.uuid4()
    async with services.sessions() as session, session.begin():
        # One creator at a time per address, so two runs at once cannot both create it.
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"staff:{email.strip().lower()}")))
        )
        existing = (
            await session.execute(
                select(user_account.c.id, user_account.c.auth_id, user_account.c.roles, user_account.c.bureau)
                .where(
                    func.lower(user_account.c.email) == email.strip().lower(),
                    user_account.c.category.in_(["officer", "operator"]),
                )
                .limit(1)
            )
        ).first()
        if existing is not None:
            if list(existing.roles or []) != [role] or existing.bureau != bureau:
                raise StaffAccountConflict(
                    email=email, role=",".join(existing.roles or []), bureau=existing.bureau
                )
            return StaffAccount(existing.id, format_auth_id(existing.auth_id), None, None, created=False)
        auth_id = await new_auth_id(session)
        await session.execute(
            insert(user_account).values(
                id=user_id,
                category=role,
                email=email,
                locale=locale,
                status=PENDING,
                auth_id=auth_id,
                roles=[role],
                bureau=bureau,
                setup_deadline=now + services.link_policy.setup_ttl,
                created_at=now,
            )
        )
        link = await store_link(
            session, purpose=LinkPurpose.PASSWORD_SETUP, user_id=user_id, now=now, policy=services.link_policy
        )
        url = link_url(services.settings.web_base_url, SETUP_PAGE, link.token)
        await add_event(
            session,
            PasswordSetupRequested(
                user_id=user_id,
                email=email,
                locale=locale_of(locale),
                setup_url=url,
                expires_at=link.record.expires_at,
            ),
        )
    return StaffAccount(user_id, format_auth_id(auth_id), url, link.record.expires_at)
