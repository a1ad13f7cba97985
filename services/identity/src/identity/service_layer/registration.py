"""Registration with the My Number Card: challenge, verification, account, set-up link (and its re-sending)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from identity.adapters.orm import user_account
from identity.bootstrap import IdentityServices
from identity.domain.challenge import Challenge, ChallengePurpose, issue_challenge
from identity.domain.jpki import CardKind, VerifiedCard, card_holder_handle, verify_card_response
from identity.domain.link_token import LinkPurpose
from identity.domain.lockout import JST
from identity.domain.users import Representation, UserCategory, require_valid_representation
from identity.service_layer.accounts import (
    PENDING,
    find_by_handle,
    get_account,
    link_url,
    links_issued_since,
    locale_of,
    store_link,
)
from identity.service_layer.errors import Refused
from identity.service_layer.representations import record_representation
from shared.events import PasswordSetupRequested, UserRegistered
from shared.messaging.outbox import add_event

SETUP_PAGE = "password-setup"


@dataclass(frozen=True)
class CardResponse:
    """What the card (through card-gateway) returned for a challenge."""

    attempt_id: str
    challenge_id: str
    certificate_der: bytes
    signature: bytes


@dataclass(frozen=True)
class Registered:
    """The new account and when its set-up link dies."""

    user_id: uuid.UUID
    category: str
    email: str
    setup_link_expires_at: datetime
    applicant_id: uuid.UUID | None


async def start_card_attempt(services: IdentityServices, purpose: ChallengePurpose) -> Challenge:
    """Issue and store a single-use challenge for a new registration or card sign-in attempt."""
    now = services.now()
    challenge = issue_challenge(
        attempt_id=secrets.token_urlsafe(16), purpose=purpose, now=now, policy=services.challenge_policy
    )
    await services.challenges.purge(expired_before=now - timedelta(days=1))
    await services.challenges.add(challenge)
    return challenge


async def verify_card(
    services: IdentityServices, response: CardResponse, *, purpose: ChallengePurpose, kind: CardKind = "auth"
) -> tuple[VerifiedCard, str]:
    """Verify a card response (the challenge is spent once the signature checks) and return it with its handle."""
    verified = await verify_card_response(
        challenges=services.challenges,
        challenge_id=response.challenge_id,
        attempt_id=response.attempt_id,
        purpose=purpose,
        certificate_der=response.certificate_der,
        signature=response.signature,
        kind=kind,
        anchors=services.anchors,
        revocation=services.revocation,
        now=services.now(),
    )
    return verified, card_holder_handle(verified, pepper=services.settings.pepper())


async def register(
    services: IdentityServices,
    *,
    card: CardResponse,
    category: UserCategory,
    email: str,
    locale: str | None,
    agreed_to_terms: bool,
    representation: Representation | None,
) -> Registered:
    """Register a card holder in a category; publish user-registered, password-setup-requested (and the representation).

    A registration still pending for the same card and category is replaced (restart after a mistyped address).
    """
    if not agreed_to_terms:
        raise Refused("terms.not_agreed")
    now = services.now()
    require_valid_representation(category, representation, today=now.astimezone(JST).date())
    _, handle = await verify_card(services, card, purpose=ChallengePurpose.REGISTRATION)
    user_id = uuid.uuid4()
    deadline = now + services.link_policy.setup_ttl
    correlation = uuid.uuid4()
    try:
        async with services.sessions() as session, session.begin():
            for existing in await find_by_handle(session, handle, category=category.value, lock=True):
                if existing.status != PENDING:
                    raise Refused("registration.duplicate")
                # Registration not finished (the password was never set): the card holder has just signed a fresh
                # challenge, so they may start again at once, e.g. to correct a mistyped e-mail address. The
                # pending account, its set-up links and its representations make way; the old link dies.
                await session.execute(delete(user_account).where(user_account.c.id == existing.id))
            await session.execute(
                insert(user_account).values(
                    id=user_id,
                    category=category.value,
                    email=email,
                    locale=locale,
                    status=PENDING,
                    card_handle=handle,
                    setup_deadline=deadline,
                    roles=[],
                    created_at=now,
                )
            )
            link = await store_link(
                session,
                purpose=LinkPurpose.PASSWORD_SETUP,
                user_id=user_id,
                now=now,
                policy=services.link_policy,
            )
            await add_event(
                session,
                UserRegistered(
                    user_id=user_id,
                    category=category.value,
                    email=email,
                    locale=locale_of(locale),
                    correlation_id=correlation,
                ),
            )
            await add_event(
                session,
                PasswordSetupRequested(
                    user_id=user_id,
                    email=email,
                    locale=locale_of(locale),
                    setup_url=link_url(services.settings.web_base_url, SETUP_PAGE, link.token),
                    expires_at=link.record.expires_at,
                    correlation_id=correlation,
                ),
            )
            applicant_id = None
            if representation is not None:
                recorded = await record_representation(
                    session,
                    user_id=user_id,
                    representation=representation,
                    now=now,
                    filer_category="relative"
                    if category is UserCategory.RELATIVE
                    else "legal_representative",
                    correlation=correlation,
                )
                applicant_id = recorded.applicant_id
    except IntegrityError:
        # Another registration with the same card and category committed first.
        raise Refused("registration.duplicate") from None
    return Registered(user_id, category.value, email, link.record.expires_at, applicant_id)


async def resend_setup_link(services: IdentityServices, user_id: uuid.UUID) -> datetime:
    """Send a new set-up link (older ones stop working) within the set-up window, rate-limited per account."""
    now = services.now()
    limit = services.settings.policy.setup_resends_per_hour
    async with services.sessions() as session, session.begin():
        account = await get_account(session, user_id, lock=True)
        if account is None:
            raise Refused("registration.not_found")
        if account.status != PENDING:
            raise Refused("registration.completed")
        deadline = account.setup_deadline or now
        if deadline <= now:
            raise Refused("registration.expired", days=services.settings.policy.setup_link_days)
        sent = await links_issued_since(
            session, user_id, LinkPurpose.PASSWORD_SETUP, now - timedelta(hours=1)
        )
        if len(sent) >= limit:
            retry_at = sent[len(sent) - limit] + timedelta(hours=1)
            local = retry_at.astimezone(JST)
            raise Refused(
                "setup.resend_limited",
                extra={"retry_at": retry_at.isoformat(), "limit_per_hour": limit},
                retry_after=max(int((retry_at - now).total_seconds()) + 1, 1),
                limit=limit,
                retry_ja=f"{local.month}月{local.day}日 {local:%H:%M}",
                retry_en=f"{local:%H:%M} on {local.day} {local:%B %Y} (Japan time)",
            )
        link = await store_link(
            session,
            purpose=LinkPurpose.PASSWORD_SETUP,
            user_id=user_id,
            now=now,
            policy=services.link_policy,
            expires_at=deadline,
        )
        await add_event(
            session,
            PasswordSetupRequested(
                user_id=user_id,
                email=account.email,
                locale=locale_of(account.locale),
                setup_url=link_url(services.settings.web_base_url, SETUP_PAGE, link.token),
                expires_at=link.record.expires_at,
            ),
        )
    return link.record.expires_at
