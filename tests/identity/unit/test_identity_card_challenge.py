"""Card challenges: ≥ 32 random bytes, short TTL, bound to an attempt and purpose, spent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.challenge import (
    ChallengePolicy,
    ChallengePurpose,
    InMemoryChallengeStore,
    issue_challenge,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_challenge_is_32_random_bytes_for_two_minutes() -> None:
    first = issue_challenge(attempt_id="a", purpose=ChallengePurpose.REGISTRATION, now=NOW)
    second = issue_challenge(attempt_id="a", purpose=ChallengePurpose.REGISTRATION, now=NOW)
    assert len(first.value) == 32
    assert first.value != second.value
    assert first.id != second.id
    assert first.expires_at == NOW + timedelta(minutes=2)
    assert not first.is_expired(NOW + timedelta(seconds=119))
    assert first.is_expired(NOW + timedelta(minutes=2))


def test_the_policy_refuses_short_challenges() -> None:
    with pytest.raises(ValueError, match="32"):
        ChallengePolicy(size=16)
    with pytest.raises(ValueError, match="TTL"):
        ChallengePolicy(ttl=timedelta(0))
    assert (
        len(
            issue_challenge(
                attempt_id="a", purpose=ChallengePurpose.SIGN_IN, now=NOW, policy=ChallengePolicy(size=48)
            ).value
        )
        == 48
    )


async def test_consume_marks_spent_exactly_once() -> None:
    store = InMemoryChallengeStore()
    challenge = issue_challenge(attempt_id="a", purpose=ChallengePurpose.SIGN_IN, now=NOW)
    await store.add(challenge)
    assert await store.consume(challenge.id, at=NOW)
    assert not await store.consume(challenge.id, at=NOW)
    assert not await store.consume("unknown", at=NOW)
    spent = await store.get(challenge.id)
    assert spent is not None
    assert spent.is_consumed()
