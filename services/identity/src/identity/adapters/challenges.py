"""The card challenge store in PostgreSQL: each operation commits on its own, so a spent challenge stays spent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.adapters.orm import card_challenge
from identity.domain.challenge import Challenge, ChallengePurpose


class SqlAlchemyChallengeStore:
    """A :class:`identity.domain.challenge.ChallengeStore` over the ``card_challenge`` table."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, challenge: Challenge) -> None:
        """Store a newly issued challenge."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(card_challenge).values(
                    id=challenge.id,
                    value=challenge.value,
                    attempt_id=challenge.attempt_id,
                    purpose=challenge.purpose.value,
                    issued_at=challenge.issued_at,
                    expires_at=challenge.expires_at,
                )
            )

    async def get(self, challenge_id: str) -> Challenge | None:
        """Return the challenge, spent or not, or ``None`` when unknown."""
        async with self._sessions() as session:
            row = (
                await session.execute(select(card_challenge).where(card_challenge.c.id == challenge_id))
            ).first()
        if row is None:
            return None
        return Challenge(
            id=row.id,
            value=bytes(row.value),
            attempt_id=row.attempt_id,
            purpose=ChallengePurpose(row.purpose),
            issued_at=row.issued_at,
            expires_at=row.expires_at,
            consumed_at=row.consumed_at,
        )

    async def consume(self, challenge_id: str, *, at: datetime) -> bool:
        """Spend the challenge atomically (``UPDATE … WHERE consumed_at IS NULL``); ``False`` when already spent."""
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(card_challenge)
                .where(card_challenge.c.id == challenge_id, card_challenge.c.consumed_at.is_(None))
                .values(consumed_at=at)
                .returning(card_challenge.c.id)
            )
            return result.first() is not None

    async def purge(self, *, expired_before: datetime) -> None:
        """Delete challenges that expired before ``expired_before`` (housekeeping)."""
        async with self._sessions() as session, session.begin():
            await session.execute(delete(card_challenge).where(card_challenge.c.expires_at < expired_before))
