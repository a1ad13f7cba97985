"""The composition root: the one place where concrete adapters are chosen (tests inject a clock or a checker)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.adapters.challenges import SqlAlchemyChallengeStore
from identity.adapters.revocation_factory import build_revocation_checker
from identity.config import IdentitySettings
from identity.domain.challenge import ChallengePolicy
from identity.domain.jpki import RevocationChecker, TrustAnchor
from identity.domain.link_token import LinkTokenPolicy
from identity.domain.lockout import LockoutPolicy
from identity.domain.password import PasswordHashing
from identity.domain.password_expiry import DEFAULT_PASSWORD_EXPIRY_POLICY, PasswordExpiryPolicy
from shared.auth import TokenSigner

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the current time (aware, UTC)."""
    return datetime.now(UTC)


@dataclass
class IdentityServices:
    """Everything the use cases need: settings, database, trust anchors, revocation, token signer, clock."""

    settings: IdentitySettings
    sessions: async_sessionmaker[AsyncSession]
    anchors: list[TrustAnchor]
    revocation: RevocationChecker
    signer: TokenSigner
    hashing: PasswordHashing
    clock: Clock = system_clock
    challenges: SqlAlchemyChallengeStore = field(init=False)
    reset_wakeup: asyncio.Event = field(init=False, repr=False)
    dummy_hash: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.challenges = SqlAlchemyChallengeStore(self.sessions)
        self.reset_wakeup = asyncio.Event()  # set when a reset request is queued
        # Verified against when the 認証ID is unknown, so both cases cost the same time.
        self.dummy_hash = self.hashing.hash("dummy-password-never-used")

    def now(self) -> datetime:
        """Return the current time from the clock."""
        return self.clock()

    @property
    def proxy_networks(self) -> list[IPv4Network | IPv6Network]:
        """Return the configured proxy (gateway) networks whose X-Forwarded-For is believed."""
        return self.settings.proxy_networks()

    @property
    def challenge_policy(self) -> ChallengePolicy:
        """Return the card challenge policy."""
        return ChallengePolicy(ttl=self.settings.policy.challenge_ttl)

    @property
    def link_policy(self) -> LinkTokenPolicy:
        """Return the e-mailed link policy."""
        policy = self.settings.policy
        return LinkTokenPolicy(
            setup_ttl=timedelta(days=policy.setup_link_days),
            reset_ttl=timedelta(hours=policy.reset_link_hours),
        )

    @property
    def lockout_policy(self) -> LockoutPolicy:
        """Return the sign-in lockout policy."""
        policy = self.settings.policy
        window, lock = (
            timedelta(minutes=policy.lockout_window_minutes),
            timedelta(minutes=policy.lockout_minutes),
        )
        return LockoutPolicy(
            account_max_failures=policy.account_max_failures,
            account_window=window,
            account_lock=lock,
            address_max_failures=policy.address_max_failures,
            address_window=window,
            address_lock=lock,
        )

    @property
    def expiry_policy(self) -> PasswordExpiryPolicy:
        """Return the password expiry policy."""
        return DEFAULT_PASSWORD_EXPIRY_POLICY


def bootstrap(
    settings: IdentitySettings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Clock | None = None,
    revocation: RevocationChecker | None = None,
    hashing: PasswordHashing | None = None,
) -> IdentityServices:
    """Return the services wired from settings; ``clock``, ``revocation`` and ``hashing`` replace the defaults."""
    anchors = settings.jpki.anchors()
    return IdentityServices(
        settings=settings,
        sessions=sessions,
        anchors=anchors,
        revocation=revocation or build_revocation_checker(settings.revocation, anchors),
        signer=TokenSigner(
            settings.token_private_key(), issuer=settings.auth.issuer, audience=settings.auth.audience
        ),
        hashing=hashing or PasswordHashing(),
        clock=clock or system_clock,
    )
