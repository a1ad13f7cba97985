"""Reading accounts and writing e-mailed link tokens: helpers shared by the use cases (inside their transaction)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import link_token, user_account
from identity.domain.link_token import (
    IssuedLinkToken,
    LinkPurpose,
    LinkTokenPolicy,
    StoredLinkToken,
    hash_link_token,
    issue_link_token,
)
from shared.events.identity import Locale

PENDING = "pending"
ACTIVE = "active"


@dataclass(frozen=True)
class Account:
    """A user account as the use cases see it (the password hash stays in the row)."""

    id: uuid.UUID
    category: str
    email: str
    locale: str | None
    status: str
    auth_id: str | None
    password_hash: str | None
    password_changed_at: datetime | None
    setup_deadline: datetime | None
    roles: tuple[str, ...]
    bureau: str | None
    last_signin_at: datetime | None
    card_handle: str | None
    created_at: datetime


def _account(row: object) -> Account:
    """Build an Account from a user_account row."""
    m = row._mapping  # type: ignore[attr-defined]
    return Account(
        id=m["id"],
        category=m["category"],
        email=m["email"],
        locale=m["locale"],
        status=m["status"],
        auth_id=m["auth_id"],
        password_hash=m["password_hash"],
        password_changed_at=m["password_changed_at"],
        setup_deadline=m["setup_deadline"],
        roles=tuple(m["roles"] or ()),
        bureau=m["bureau"],
        last_signin_at=m["last_signin_at"],
        card_handle=m["card_handle"],
        created_at=m["created_at"],
    )


async def get_account(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> Account | None:
    """Return the account with this id, optionally locked for update."""
    query = select(user_account).where(user_account.c.id == user_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return _account(row) if row is not None else None


async def find_by_auth_id(session: AsyncSession, auth_id: str) -> Account | None:
    """Return the account with this (normalised) 認証ID."""
    row = (await session.execute(select(user_account).where(user_account.c.auth_id == auth_id))).first()
    return _account(row) if row is not None else None


async def find_by_handle(
    session: AsyncSession, handle: str, *, category: str | None = None, lock: bool = False
) -> list[Account]:
    """Return the accounts bound to a card-holder handle (one per category at most)."""
    query = select(user_account).where(user_account.c.card_handle == handle)
    if category is not None:
        query = query.where(user_account.c.category == category)
    if lock:
        query = query.with_for_update()
    return [_account(r) for r in (await session.execute(query.order_by(user_account.c.category))).all()]


async def find_active_by_email(session: AsyncSession, email: str) -> list[Account]:
    """Return the active accounts with this e-mail address (case-insensitive)."""
    query = select(user_account).where(
        func.lower(user_account.c.email) == email.strip().lower(), user_account.c.status == ACTIVE
    )
    return [_account(r) for r in (await session.execute(query)).all()]


async def store_link(
    session: AsyncSession,
    *,
    purpose: LinkPurpose,
    user_id: uuid.UUID,
    now: datetime,
    policy: LinkTokenPolicy,
    expires_at: datetime | None = None,
) -> IssuedLinkToken:
    """Issue a link token, store its hash, and retire older unused links of the same purpose (newest one works)."""
    issued = issue_link_token(purpose=purpose, subject_id=str(user_id), now=now, policy=policy)
    expires = (
        min(issued.record.expires_at, expires_at) if expires_at is not None else issued.record.expires_at
    )
    await session.execute(
        update(link_token)
        .where(
            link_token.c.user_id == user_id,
            link_token.c.purpose == purpose.value,
            link_token.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    await session.execute(
        insert(link_token).values(
            token_hash=issued.record.token_hash,
            purpose=purpose.value,
            user_id=user_id,
            issued_at=now,
            expires_at=expires,
        )
    )
    return IssuedLinkToken(token=issued.token, record=_with_expiry(issued.record, expires))


def _with_expiry(record: StoredLinkToken, expires_at: datetime) -> StoredLinkToken:
    """Return the record with another expiry."""
    return replace(record, expires_at=expires_at)


async def load_link(session: AsyncSession, token: str, *, lock: bool = False) -> StoredLinkToken | None:
    """Return the stored link for a raw token (looked up by its hash), or ``None``."""
    query = select(link_token).where(link_token.c.token_hash == hash_link_token(token))
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return StoredLinkToken(
        token_hash=row.token_hash,
        purpose=LinkPurpose(row.purpose),
        subject_id=str(row.user_id),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


async def spend_link(session: AsyncSession, stored: StoredLinkToken, *, now: datetime) -> bool:
    """Mark a link used (``WHERE used_at IS NULL``); ``False`` when another request spent it first."""
    result = await session.execute(
        update(link_token)
        .where(link_token.c.token_hash == stored.token_hash, link_token.c.used_at.is_(None))
        .values(used_at=now)
        .returning(link_token.c.token_hash)
    )
    return result.first() is not None


async def links_issued_since(
    session: AsyncSession, user_id: uuid.UUID, purpose: LinkPurpose, since: datetime
) -> list[datetime]:
    """Return when links of this purpose were issued to the account since ``since`` (oldest first)."""
    rows = await session.execute(
        select(link_token.c.issued_at)
        .where(
            link_token.c.user_id == user_id,
            link_token.c.purpose == purpose.value,
            link_token.c.issued_at > since,
        )
        .order_by(link_token.c.issued_at)
    )
    return [r.issued_at for r in rows.all()]


def link_url(base: str, page: str, token: str) -> str:
    """Return the e-mailed URL of a portal page; the token is in the query string so the page works without
    JavaScript. The portal moves it into its session at once and redirects to the page without it, and the
    gateway never logs query strings (ADR 0016)."""
    return f"{base}/{page}?token={token}"


def locale_of(value: str | None) -> Locale | None:
    """Return a stored locale as the event contracts type it."""
    if value == "ja":
        return "ja"
    if value == "en":
        return "en"
    return None
