"""Single-use card challenges: random bytes the card signs, bound to one registration or sign-in attempt.

A challenge is at least 32 random bytes, lives for a short TTL (policy, default 2 minutes), belongs to one attempt id
and purpose, and is spent by :meth:`ChallengeStore.consume`, which must be atomic (a database implementation does
``UPDATE ... SET consumed_at = :now WHERE id = :id AND consumed_at IS NULL`` and checks the row count).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

__all__ = [
    "DEFAULT_CHALLENGE_POLICY",
    "Challenge",
    "ChallengePolicy",
    "ChallengePurpose",
    "ChallengeStore",
    "InMemoryChallengeStore",
    "issue_challenge",
]

MIN_CHALLENGE_BYTES = 32


class ChallengePurpose(StrEnum):
    """What the attempt is for; a challenge issued for one purpose is refused for the other."""

    REGISTRATION = "registration"
    SIGN_IN = "sign_in"


@dataclass(frozen=True)
class ChallengePolicy:
    """Challenge size and lifetime *(policy)*."""

    size: int = 32
    ttl: timedelta = timedelta(minutes=2)

    def __post_init__(self) -> None:
        if self.size < MIN_CHALLENGE_BYTES:
            raise ValueError(f"challenges must be at least {MIN_CHALLENGE_BYTES} bytes")
        if self.ttl <= timedelta(0):
            raise ValueError("challenge TTL must be positive")


DEFAULT_CHALLENGE_POLICY = ChallengePolicy()


@dataclass(frozen=True)
class Challenge:
    """An issued challenge; ``value`` is what the card signs (RSASSA-PKCS1-v1_5/SHA-256)."""

    id: str
    value: bytes
    attempt_id: str
    purpose: ChallengePurpose
    issued_at: datetime
    expires_at: datetime
    consumed_at: datetime | None = None

    def is_expired(self, now: datetime) -> bool:
        """Return whether the challenge's TTL has passed at ``now``."""
        return now >= self.expires_at

    def is_consumed(self) -> bool:
        """Return whether the challenge has been spent."""
        return self.consumed_at is not None


def issue_challenge(
    *,
    attempt_id: str,
    purpose: ChallengePurpose,
    now: datetime,
    policy: ChallengePolicy = DEFAULT_CHALLENGE_POLICY,
) -> Challenge:
    """Create a fresh random challenge for an attempt; store it with :meth:`ChallengeStore.add`."""
    return Challenge(
        id=secrets.token_urlsafe(16),
        value=secrets.token_bytes(policy.size),
        attempt_id=attempt_id,
        purpose=purpose,
        issued_at=now,
        expires_at=now + policy.ttl,
    )


class ChallengeStore(Protocol):
    """Where challenges live between issue and use (a database table in production)."""

    async def add(self, challenge: Challenge) -> None:
        """Store a newly issued challenge."""
        ...

    async def get(self, challenge_id: str) -> Challenge | None:
        """Return the challenge, spent or not, or ``None`` when unknown."""
        ...

    async def consume(self, challenge_id: str, *, at: datetime) -> bool:
        """Atomically mark the challenge spent; return ``False`` when it was already spent or is unknown."""
        ...


class InMemoryChallengeStore:
    """A :class:`ChallengeStore` in a dict: for tests and single-process development."""

    def __init__(self) -> None:
        self._items: dict[str, Challenge] = {}

    async def add(self, challenge: Challenge) -> None:
        """Store a newly issued challenge."""
        self._items[challenge.id] = challenge

    async def get(self, challenge_id: str) -> Challenge | None:
        """Return the challenge or ``None``."""
        return self._items.get(challenge_id)

    async def consume(self, challenge_id: str, *, at: datetime) -> bool:
        """Mark the challenge spent unless it already is."""
        challenge = self._items.get(challenge_id)
        if challenge is None or challenge.consumed_at is not None:
            return False
        self._items[challenge_id] = replace(challenge, consumed_at=at)
        return True
