"""Sign-in (認証ID + password, or the card), access and refresh tokens, rotation, sign-out and lockout."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import refresh_token, signin_failure, user_account
from identity.bootstrap import IdentityServices
from identity.domain.auth_id import normalize_auth_id
from identity.domain.challenge import ChallengePurpose
from identity.domain.lockout import LockoutDecision, evaluate_lockout
from identity.domain.password_expiry import is_password_expired, password_expires_at
from identity.service_layer.accounts import ACTIVE, Account, find_by_auth_id, find_by_handle, get_account
from identity.service_layer.errors import Refused, refusal
from identity.service_layer.registration import CardResponse, verify_card
from identity.service_layer.representations import acts_for
from shared.auth import APPLICANT_ROLE, Principal
from shared.events import SessionsRevoked
from shared.messaging.outbox import add_event

STAFF_CATEGORIES = frozenset({"officer", "operator"})
RevokeReason = Literal["signed_out", "password_changed", "password_reset", "refresh_reused"]


@dataclass(frozen=True)
class IssuedTokens:
    """A signed access token and its refresh token (the raw value exists only in this response)."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    password_expires_at: datetime | None

    def __repr__(self) -> str:
        return "IssuedTokens(<hidden>)"


def _hash(token: str) -> str:
    """Return the SHA-256 hex digest under which a refresh token is stored."""
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


def roles_of(account: Account) -> frozenset[str]:
    """Return the roles of an account: staff roles from the account row, ``applicant`` for everyone else."""
    if account.category in STAFF_CATEGORIES:
        return frozenset(account.roles)
    return frozenset({APPLICANT_ROLE})


async def _issue(
    services: IdentityServices,
    session: AsyncSession,
    account: Account,
    *,
    now: datetime,
    family_id: uuid.UUID | None = None,
) -> IssuedTokens:
    """Sign an access token for the account and store a new refresh token (in the caller's transaction)."""
    policy = services.settings.policy
    family = family_id or uuid.uuid4()
    principal = Principal(
        user_id=account.id,
        roles=roles_of(account),
        category=account.category,
        acts_for=await acts_for(session, account.id, now=now),
        bureau=account.bureau,
        session_id=str(family),  # one sign-in = one refresh-token family = one sid, kept across rotation
    )
    ttl = timedelta(seconds=policy.access_token_ttl_s)
    access = services.signer.sign(principal, ttl=ttl)
    raw = secrets.token_urlsafe(32)
    expires = now + timedelta(days=policy.refresh_token_days)
    await session.execute(
        insert(refresh_token).values(
            token_hash=_hash(raw),
            user_id=account.id,
            family_id=family,
            issued_at=now,
            expires_at=expires,
        )
    )
    changed = account.password_changed_at
    return IssuedTokens(
        access_token=access,
        expires_in=policy.access_token_ttl_s,
        refresh_token=raw,
        refresh_expires_at=expires,
        password_expires_at=password_expires_at(changed, services.expiry_policy) if changed else None,
    )


async def evaluate_signin_lock(
    services: IdentityServices,
    session: AsyncSession,
    auth_key: str | None,
    account: Account | None,
    address: str,
    now: datetime,
) -> LockoutDecision:
    """Evaluate the lock of the 認証ID (known or not) and of the address.

    Failures count per 認証ID as typed, so an unknown 認証ID locks exactly like a known one and a lock tells the
    caller nothing; a known account's count starts again after its last successful sign-in or new password.
    """
    policy = services.lockout_policy
    horizon = now - max(
        policy.account_window + policy.account_lock, policy.address_window + policy.address_lock
    )
    account_failures: list[datetime] = []
    if auth_key is not None:
        since = horizon
        if account is not None:
            since = max(
                t for t in (account.last_signin_at, account.password_changed_at, horizon) if t is not None
            )
        account_failures = list(
            (
                await session.execute(
                    select(signin_failure.c.at).where(
                        signin_failure.c.auth_id_key == auth_key, signin_failure.c.at > since
                    )
                )
            ).scalars()
        )
    address_failures = list(
        (
            await session.execute(
                select(signin_failure.c.at).where(
                    signin_failure.c.client_address == address, signin_failure.c.at > horizon
                )
            )
        ).scalars()
    )
    return evaluate_lockout(
        account_failures=account_failures, address_failures=address_failures, now=now, policy=policy
    )


async def record_failure(
    session: AsyncSession, *, auth_key: str | None, account: Account | None, address: str, now: datetime
) -> None:
    """Record one failed proof of a password (sign-in or change) against the 認証ID and the address."""
    await session.execute(
        insert(signin_failure).values(
            user_id=account.id if account is not None else None,
            auth_id_key=auth_key,
            client_address=address,
            at=now,
        )
    )


def locked_refusal(decision: LockoutDecision, now: datetime) -> Refused:
    """Return the refusal explaining a lock and when it ends."""
    reason = decision.reason()
    assert reason is not None and decision.until is not None
    return refusal(
        reason,
        extra={"locked_until": decision.until.isoformat(), "scope": decision.scope},
        retry_after=max(int((decision.until - now).total_seconds()) + 1, 1),
    )


async def sign_in(services: IdentityServices, *, auth_id: str, password: str, address: str) -> IssuedTokens:
    """Sign in with 認証ID and password; failures count per account and per address until a lock."""
    now = services.now()
    normalized = normalize_auth_id(auth_id)
    async with services.sessions() as session, session.begin():
        account = await find_by_auth_id(session, normalized) if normalized else None
        if account is not None:
            account = await get_account(session, account.id, lock=True)
        decision = await evaluate_signin_lock(services, session, normalized, account, address, now)
        if decision.locked:
            raise locked_refusal(decision, now)
        stored = account.password_hash if account is not None and account.status == ACTIVE else None
        valid = services.hashing.verify(stored or services.dummy_hash, password) and stored is not None
        if not valid or account is None:
            await record_failure(session, auth_key=normalized, account=account, address=address, now=now)
            after = await evaluate_signin_lock(services, session, normalized, account, address, now)
            failure = locked_refusal(after, now) if after.locked else Refused("signin.invalid_credentials")
            # The failure must be recorded even though the request is refused: commit, then raise.
            error: Refused | None = failure
        else:
            error = None
    if error is not None:
        raise error
    assert account is not None and account.password_changed_at is not None and stored is not None
    if is_password_expired(account.password_changed_at, now, services.expiry_policy):
        raise Refused(
            "signin.password_expired",
            extra={"password_expired_at": password_expires_at(account.password_changed_at).isoformat()},
        )
    async with services.sessions() as session, session.begin():
        values: dict[str, object] = {"last_signin_at": now}
        if services.hashing.needs_rehash(stored):
            values["password_hash"] = services.hashing.hash(password)
        await session.execute(update(user_account).where(user_account.c.id == account.id).values(**values))
        return await _issue(services, session, account, now=now)


async def sign_in_with_card(
    services: IdentityServices, *, card: CardResponse, category: str | None
) -> IssuedTokens:
    """Sign in with the card's authentication certificate, matched to the account by the card-holder handle."""
    _, handle = await verify_card(services, card, purpose=ChallengePurpose.SIGN_IN)
    now = services.now()
    async with services.sessions() as session, session.begin():
        accounts = await find_by_handle(session, handle, category=category)
        if not accounts:
            raise Refused("signin.card_not_registered")
        if len(accounts) > 1:
            raise Refused("signin.category_required", extra={"categories": [a.category for a in accounts]})
        account = accounts[0]
        if account.status != ACTIVE:
            raise Refused("signin.setup_incomplete")
        await session.execute(
            update(user_account).where(user_account.c.id == account.id).values(last_signin_at=now)
        )
        return await _issue(services, session, account, now=now)


async def refresh(services: IdentityServices, raw_token: str) -> IssuedTokens:
    """Rotate a refresh token: the old one is spent; presenting a spent one again ends the whole sign-in."""
    now = services.now()
    reused = False
    async with services.sessions() as session, session.begin():
        row = (
            await session.execute(
                select(refresh_token).where(refresh_token.c.token_hash == _hash(raw_token)).with_for_update()
            )
        ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise Refused("token.refresh_invalid")
        if row.used_at is not None:
            await _end_family(services, session, row.user_id, row.family_id, now, "refresh_reused")
            reused = True
        else:
            account = await get_account(session, row.user_id)
            if account is None or account.status != ACTIVE:
                raise Refused("token.refresh_invalid")
            if account.password_changed_at and is_password_expired(
                account.password_changed_at, now, services.expiry_policy
            ):
                raise Refused("signin.password_expired")
            await session.execute(
                update(refresh_token).where(refresh_token.c.token_hash == row.token_hash).values(used_at=now)
            )
            return await _issue(services, session, account, now=now, family_id=row.family_id)
    assert reused
    raise Refused("token.refresh_reused")


async def _revoke_families(session: AsyncSession, families: Iterable[uuid.UUID], now: datetime) -> None:
    """Revoke every refresh token of the given sign-ins."""
    ids = list(families)
    if ids:
        await session.execute(
            update(refresh_token)
            .where(refresh_token.c.family_id.in_(ids), refresh_token.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


async def _live_families(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Return the sign-ins of an account that still have a usable refresh token (except ``keep``)."""
    query = select(refresh_token.c.family_id).where(
        refresh_token.c.user_id == user_id,
        refresh_token.c.revoked_at.is_(None),
        refresh_token.c.expires_at > now,
    )
    if keep is not None:
        query = query.where(refresh_token.c.family_id != keep)
    return sorted(set((await session.execute(query.with_for_update())).scalars()))


async def announce_revoked(
    services: IdentityServices,
    session: AsyncSession,
    user_id: uuid.UUID,
    families: Iterable[uuid.UUID],
    *,
    reason: RevokeReason,
    issued_before: datetime | None = None,
) -> None:
    """Publish sessions-revoked (in the caller's transaction) so every service refuses those access tokens.

    Times are real time, not the service clock: access tokens are stamped with real time by the signer.
    """
    ids = list(families)
    if not ids and issued_before is None:
        return
    real_now = datetime.now(UTC)
    await add_event(
        session,
        SessionsRevoked(
            user_id=user_id,
            reason=reason,
            session_ids=ids,
            issued_before=issued_before,
            valid_until=real_now + timedelta(seconds=services.settings.policy.access_token_ttl_s + 60),
        ),
    )


async def _end_family(
    services: IdentityServices,
    session: AsyncSession,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    now: datetime,
    reason: RevokeReason,
) -> None:
    """End one sign-in: its refresh tokens are revoked and its access tokens refused everywhere."""
    await _revoke_families(session, [family_id], now)
    await announce_revoked(services, session, user_id, [family_id], reason=reason)


async def sign_out(services: IdentityServices, raw_token: str) -> None:
    """End the sign-in the refresh token belongs to (unknown tokens are ignored: the result is the same)."""
    now = services.now()
    async with services.sessions() as session, session.begin():
        row = (
            await session.execute(
                select(refresh_token.c.family_id, refresh_token.c.user_id).where(
                    refresh_token.c.token_hash == _hash(raw_token)
                )
            )
        ).first()
        if row is not None:
            await _end_family(services, session, row.user_id, row.family_id, now, "signed_out")


async def end_other_sessions(
    services: IdentityServices,
    session: AsyncSession,
    user_id: uuid.UUID,
    now: datetime,
    *,
    keep: uuid.UUID | None,
    reason: RevokeReason,
) -> None:
    """End every sign-in of the account except ``keep`` (refresh tokens revoked, access tokens refused)."""
    families = await _live_families(session, user_id, now, keep=keep)
    await _revoke_families(session, families, now)
    await announce_revoked(services, session, user_id, families, reason=reason)


async def revoke_all(
    services: IdentityServices, session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> None:
    """End every sign-in of an account (after a password reset), including tokens issued in any earlier second."""
    families = await _live_families(session, user_id, now)
    await _revoke_families(session, families, now)
    await announce_revoked(
        services, session, user_id, families, reason="password_reset", issued_before=datetime.now(UTC)
    )
