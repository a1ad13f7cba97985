"""Passwords: set-up from the e-mailed link (and the 認証ID), reset by e-mail, change while signed in."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import password_reset_request, user_account
from identity.bootstrap import IdentityServices
from identity.domain.auth_id import format_auth_id, generate_auth_id
from identity.domain.errors import Reason
from identity.domain.link_token import LinkPurpose, LinkTokenRefused, StoredLinkToken, check_link_token
from identity.domain.password import require_valid_password
from identity.domain.password_expiry import password_expires_at
from identity.service_layer.accounts import (
    ACTIVE,
    PENDING,
    find_active_by_email,
    get_account,
    link_url,
    links_issued_since,
    load_link,
    locale_of,
    spend_link,
    store_link,
)
from identity.service_layer.errors import Refused
from identity.service_layer.ratelimits import purge_expired
from identity.service_layer.sessions import (
    end_other_sessions,
    evaluate_signin_lock,
    locked_refusal,
    record_failure,
    revoke_all,
)
from shared.events import AuthIdIssued, PasswordResetRequested
from shared.messaging.outbox import add_event

RESET_PAGE = "password-reset"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PasswordSet:
    """The account whose password was set, its 認証ID (display form) and when the password expires."""

    user_id: uuid.UUID
    auth_id: str
    password_expires_at: datetime


def _expired_setup(days: int) -> LinkTokenRefused:
    """Return link.expired worded for a set-up link: registration has to be done again."""
    return LinkTokenRefused(
        Reason(
            "link.expired",
            f"このリンクの有効期限（登録から{days}日）が切れています。最初から利用者情報登録をやり直してください。",
            f"This link has expired ({days} days after registration). Register again from the beginning.",
        )
    )


def _expired_reset() -> LinkTokenRefused:
    """Return link.expired worded for a reset link: ask for a new one."""
    return LinkTokenRefused(
        Reason(
            "link.expired",
            "このリンクの有効期限が切れています。もう一度「パスワードを忘れた場合」から再設定メールを依頼してください。",
            "This link has expired. Ask for a new reset e-mail with 'Forgot your password'.",
        )
    )


def _check(
    services: IdentityServices, stored: StoredLinkToken | None, purpose: LinkPurpose, now: datetime
) -> StoredLinkToken:
    """Check a link for its purpose, with expiry explained per purpose."""
    try:
        return check_link_token(stored, purpose=purpose, now=now)
    except LinkTokenRefused as refused:
        if refused.code != "link.expired":
            raise
        if purpose is LinkPurpose.PASSWORD_SETUP:
            raise _expired_setup(services.settings.policy.setup_link_days) from None
        raise _expired_reset() from None


async def check_link(services: IdentityServices, token: str, purpose: LinkPurpose) -> datetime:
    """Tell whether a link still works (before the form is shown); return when it expires."""
    async with services.sessions() as session:
        stored = _check(services, await load_link(session, token), purpose, services.now())
    return stored.expires_at


async def new_auth_id(session: AsyncSession) -> str:
    """Return a 認証ID no account holds yet."""
    while True:
        candidate = generate_auth_id()
        taken = await session.execute(select(user_account.c.id).where(user_account.c.auth_id == candidate))
        if taken.first() is None:
            return candidate


async def set_up_password(services: IdentityServices, *, token: str, password: str) -> PasswordSet:
    """Set the first password from the set-up link, issue the 認証ID and publish auth-id-issued."""
    now = services.now()
    async with services.sessions() as session, session.begin():
        stored = _check(services, await load_link(session, token, lock=True), LinkPurpose.PASSWORD_SETUP, now)
        account = await get_account(session, uuid.UUID(stored.subject_id), lock=True)
        if account is None or account.status != PENDING:
            raise Refused("registration.completed")
        issued_now = account.auth_id is None
        auth_id = account.auth_id or await new_auth_id(session)
        require_valid_password(password, auth_id=auth_id, email=account.email)
        if not await spend_link(session, stored, now=now):
            raise LinkTokenRefused(Reason("link.used", *_USED))
        await session.execute(
            update(user_account)
            .where(user_account.c.id == account.id)
            .values(
                auth_id=auth_id,
                password_hash=services.hashing.hash(password),
                password_changed_at=now,
                status=ACTIVE,
            )
        )
        if issued_now:
            await add_event(
                session,
                AuthIdIssued(
                    user_id=account.id,
                    email=account.email,
                    locale=locale_of(account.locale),
                    auth_id=format_auth_id(auth_id),
                ),
            )
    return PasswordSet(account.id, format_auth_id(auth_id), password_expires_at(now, services.expiry_policy))


_USED = (
    "このリンクは使用済みです。パスワードを忘れた場合は、パスワードの再設定を行ってください。",
    "This link has already been used. If you forgot your password, reset it.",
)


async def queue_reset(services: IdentityServices, *, email: str) -> None:
    """Queue a reset request; the caller is answered before anything about the address is looked up.

    The statements run here are the same whether or not an account has the address (one insert), so neither the
    answer nor its timing tells whether the address is registered; :func:`work_off_reset_requests` does the rest.
    """
    async with services.sessions() as session, session.begin():
        await session.execute(
            insert(password_reset_request).values(email=email[:320], requested_at=services.now())
        )
    services.reset_wakeup.set()


async def work_off_reset_requests(services: IdentityServices, *, batch: int = 100) -> int:
    """Handle queued reset requests (each replica takes different rows); return how many were handled."""
    async with services.sessions() as session, session.begin():
        rows = (
            await session.execute(
                select(password_reset_request.c.id, password_reset_request.c.email)
                .order_by(password_reset_request.c.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            try:
                async with session.begin_nested():
                    await _request_reset(services, session, email=row.email)
            except Exception:
                # One bad request must not hold up the queue: it is dropped (the user can ask again).
                log.exception("queued reset request %s could not be handled; dropped", row.id)
        if rows:
            await session.execute(
                delete(password_reset_request).where(password_reset_request.c.id.in_([r.id for r in rows]))
            )
    return len(rows)


async def _request_reset(services: IdentityServices, session: AsyncSession, *, email: str) -> None:
    """E-mail a reset link to each active account with this address (at most a few per hour, silently)."""
    now = services.now()
    limit = services.settings.policy.reset_requests_per_hour
    for account in await find_active_by_email(session, email):
        recent = await links_issued_since(
            session, account.id, LinkPurpose.PASSWORD_RESET, now - timedelta(hours=1)
        )
        if len(recent) >= limit:
            continue  # silently: the answer must not reveal the address
        link = await store_link(
            session,
            purpose=LinkPurpose.PASSWORD_RESET,
            user_id=account.id,
            now=now,
            policy=services.link_policy,
        )
        await add_event(
            session,
            PasswordResetRequested(
                user_id=account.id,
                email=account.email,
                locale=locale_of(account.locale),
                reset_url=link_url(services.settings.web_base_url, RESET_PAGE, link.token),
                expires_at=link.record.expires_at,
            ),
        )


async def run_reset_queue(services: IdentityServices, interval_s: float) -> None:
    """Background job: work off queued reset requests when woken or every ``interval_s``; purge old counters."""
    last_purge = 0.0
    while True:
        try:
            while await work_off_reset_requests(services):
                pass
            if time.monotonic() - last_purge > 60:
                last_purge = time.monotonic()
                await purge_expired(services)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the reset queue could not be worked off; retrying")
        services.reset_wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(services.reset_wakeup.wait(), timeout=interval_s)


async def reset_password(services: IdentityServices, *, token: str, password: str) -> PasswordSet:
    """Set a new password from the reset link; every sign-in of the account ends and any lock is lifted."""
    now = services.now()
    async with services.sessions() as session, session.begin():
        stored = _check(services, await load_link(session, token, lock=True), LinkPurpose.PASSWORD_RESET, now)
        account = await get_account(session, uuid.UUID(stored.subject_id), lock=True)
        if account is None or account.status != ACTIVE or account.auth_id is None:
            raise LinkTokenRefused(Reason("link.used", *_USED))
        require_valid_password(password, auth_id=account.auth_id, email=account.email)
        if not await spend_link(session, stored, now=now):
            raise LinkTokenRefused(Reason("link.used", *_USED))
        await session.execute(
            update(user_account)
            .where(user_account.c.id == account.id)
            .values(password_hash=services.hashing.hash(password), password_changed_at=now)
        )
        await revoke_all(services, session, account.id, now)
    return PasswordSet(
        account.id, format_auth_id(account.auth_id), password_expires_at(now, services.expiry_policy)
    )


async def change_password(
    services: IdentityServices,
    *,
    user_id: uuid.UUID,
    current_password: str,
    new_password: str,
    address: str,
    session_id: str | None,
) -> datetime:
    """Change the password of a signed-in account; every other sign-in ends. Return the new expiry.

    A wrong current password counts toward the sign-in lock like a failed sign-in, and a locked account cannot
    change its password (423 ``signin.locked``).
    """
    now = services.now()
    async with services.sessions() as session, session.begin():
        account = await get_account(session, user_id, lock=True)
        if account is None or account.status != ACTIVE or account.password_hash is None:
            raise Refused("account.not_found")
        decision = await evaluate_signin_lock(services, session, account.auth_id, account, address, now)
        if decision.locked:
            raise locked_refusal(decision, now)
        failure: Refused | None = None
        if not services.hashing.verify(account.password_hash, current_password):
            await record_failure(session, auth_key=account.auth_id, account=account, address=address, now=now)
            after = await evaluate_signin_lock(services, session, account.auth_id, account, address, now)
            # Recorded even though the request is refused: commit, then raise.
            failure = locked_refusal(after, now) if after.locked else Refused("password.current_wrong")
        else:
            require_valid_password(new_password, auth_id=account.auth_id, email=account.email)
            await session.execute(
                update(user_account)
                .where(user_account.c.id == account.id)
                .values(password_hash=services.hashing.hash(new_password), password_changed_at=now)
            )
            keep = _uuid_or_none(session_id)
            await end_other_sessions(services, session, account.id, now, keep=keep, reason="password_changed")
    if failure is not None:
        raise failure
    return password_expires_at(now, services.expiry_policy)


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    """Return the session id as a UUID, or None when absent or malformed."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
