"""Sign-in (認証ID + password, or the card), access and refresh tokens, rotation, sign-out and lockout."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

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

STAFF_CATEGORIES = frozenset({"officer", "operator"})


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
    principal = Principal(
        user_id=account.id,
        roles=roles_of(account),
        category=account.category,
        acts_for=await acts_for(session, account.id, now=now),
        bureau=account.bureau,
    )
    ttl = timedelta(seconds=policy.access_token_ttl_s)
    access = services.signer.sign(principal, ttl=ttl)
    raw = secrets.token_urlsafe(32)
    expires = now + timedelta(days=policy.refresh_token_days)
    await session.execute(
        insert(refresh_token).values(
            token_hash=_hash(raw),
            user_id=account.id,
            family_id=family_id or uuid.uuid4(),
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


async def _lockout(
    services: IdentityServices, session: AsyncSession, account: Account | None, address: str, now: datetime
) -> LockoutDecision:
    """Evaluate the lock of the account (failures since its last success or new password) and of the address."""
    policy = services.lockout_policy
    horizon = now - max(
        policy.account_window + policy.account_lock, policy.address_window + policy.address_lock
    )
    account_failures: list[datetime] = []
    if account is not None:
        since = max(
            (t for t in (account.last_signin_at, account.password_changed_at, horizon) if t is not None),
        )
        account_failures = list(
            (
                await session.execute(
                    select(signin_failure.c.at).where(
                        signin_failure.c.user_id == account.id, signin_failure.c.at > since
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


def _locked(decision: LockoutDecision, now: datetime) -> Refused:
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
        decision = await _lockout(services, session, account, address, now)
        if decision.locked:
            raise _locked(decision, now)
        stored = account.password_hash if account is not None and account.status == ACTIVE else None
        valid = services.hashing.verify(stored or services.dummy_hash, password) and stored is not None
        if not valid or account is None:
            await session.execute(
                insert(signin_failure).values(
                    user_id=account.id if account is not None else None, client_address=address, at=now
                )
            )
            after = await _lockout(services, session, account, address, now)
            failure = _locked(after, now) if after.locked else Refused("signin.invalid_credentials")
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
            await _revoke_family(session, row.family_id, now)
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


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    """Revoke every token of one sign-in."""
    await session.execute(
        update(refresh_token)
        .where(refresh_token.c.family_id == family_id, refresh_token.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def sign_out(services: IdentityServices, raw_token: str) -> None:
    """Revoke the sign-in the refresh token belongs to (unknown tokens are ignored: the result is the same)."""
    now = services.now()
    async with services.sessions() as session, session.begin():
        family = (
            await session.execute(
                select(refresh_token.c.family_id).where(refresh_token.c.token_hash == _hash(raw_token))
            )
        ).scalar()
        if family is not None:
            await _revoke_family(session, family, now)


async def revoke_all(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """Revoke every refresh token of an account (after a password reset)."""
    await session.execute(
        update(refresh_token)
        .where(refresh_token.c.user_id == user_id, refresh_token.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
