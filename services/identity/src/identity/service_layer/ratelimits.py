"""Request rate limits per client address and per named account, counted in PostgreSQL (shared by every replica).

Fixed windows: ``INSERT … ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING hits`` on (bucket, subject, window
start) is one atomic statement, so replicas never over-admit. Subjects are keyed digests (HMAC with the handle
pepper): no address or e-mail address is stored. Refusals are 429 ``rate.limited`` with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from identity.adapters.orm import rate_limit_window
from identity.bootstrap import IdentityServices
from identity.config import RateLimit
from identity.domain.lockout import JST
from identity.service_layer.errors import Refused

Bucket = Literal["card_challenge", "registration", "setup_resend", "reset", "sign_in"]
Scope = Literal["address", "account"]


def _subject(services: IdentityServices, bucket: str, scope: str, value: str) -> str:
    """Return the keyed digest under which a subject is counted."""
    message = f"{bucket}|{scope}|{value}".encode()
    return hmac.new(services.settings.pepper(), message, hashlib.sha256).hexdigest()


def _window_start(now: datetime, window_s: int) -> datetime:
    """Return the start of the fixed window ``now`` falls in."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_s, UTC)


def _limit_of(services: IdentityServices, bucket: Bucket, scope: Scope) -> RateLimit | None:
    """Return the configured limit of a bucket and scope (None when that scope is not limited)."""
    limit: RateLimit | None = getattr(services.settings.rate_limits, f"{bucket}_per_{scope}", None)
    return limit


async def enforce(
    services: IdentityServices, bucket: Bucket, *, address: str, account: str | None = None
) -> None:
    """Count one request of the address (and of the named account); raise 429 ``rate.limited`` when over a limit."""
    now = services.now()
    subjects: list[tuple[Scope, str]] = [("address", address)]
    if account is not None:
        subjects.append(("account", account))
    refusal: tuple[datetime, RateLimit, Scope] | None = None
    async with services.sessions() as session, session.begin():
        for scope, value in subjects:
            limit = _limit_of(services, bucket, scope)
            if limit is None:
                continue
            start = _window_start(now, limit.window_s)
            end = start + timedelta(seconds=limit.window_s)
            statement = pg_insert(rate_limit_window).values(
                bucket=bucket,
                subject=_subject(services, bucket, scope, value),
                window_start=start,
                hits=1,
                expires_at=end,
            )
            hits = (
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["bucket", "subject", "window_start"],
                        set_={"hits": rate_limit_window.c.hits + 1},
                    ).returning(rate_limit_window.c.hits)
                )
            ).scalar_one()
            if hits > limit.limit and (refusal is None or end > refusal[0]):
                refusal = (end, limit, scope)
    if refusal is not None:
        retry_at, limit, scope = refusal
        local = retry_at.astimezone(JST)
        raise Refused(
            "rate.limited",
            extra={
                "retry_at": retry_at.isoformat(),
                "limit": limit.limit,
                "window_s": limit.window_s,
                "scope": scope,
            },
            retry_after=max(int((retry_at - now).total_seconds()) + 1, 1),
            retry_ja=f"{local.month}月{local.day}日 {local:%H:%M:%S}",
            retry_en=f"{local:%H:%M:%S} on {local.day} {local:%B %Y} (Japan time)",
        )


async def purge_expired(services: IdentityServices) -> int:
    """Delete counters whose window has ended; return how many."""
    async with services.sessions() as session, session.begin():
        result = await session.execute(
            delete(rate_limit_window).where(rate_limit_window.c.expires_at < services.now())
        )
    return int(getattr(result, "rowcount", 0) or 0)
