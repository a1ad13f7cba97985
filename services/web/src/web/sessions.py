"""Server-side sessions: the browser holds one opaque cookie; tokens and the CSRF secret stay here.

The cookie value is 32 random bytes; the store keys rows by its SHA-256, so a leaked database does not give
working cookies. Sessions end after a period without use (shorter for staff) and on sign-out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import new_metadata

metadata = new_metadata()
web_session = sa.Table(
    "web_session",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


@dataclass
class Session:
    """One browser's session: its cookie value (never stored), its data, and whether it changed."""

    cookie: str
    data: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False
    new: bool = False

    @property
    def csrf(self) -> str:
        """The session's CSRF token (created on first use)."""
        token = self.data.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            self.data["csrf"] = token
            self.dirty = True
        return token

    @property
    def signed_in(self) -> bool:
        """True when the session holds tokens."""
        return bool(self.data.get("access_token"))

    def set(self, key: str, value: Any) -> None:
        """Set a value and mark the session for saving."""
        self.data[key] = value
        self.dirty = True


class SessionStore(Protocol):
    """Where sessions live."""

    async def load(self, cookie: str) -> dict[str, Any] | None:
        """Return the data of a live session, or None."""

    async def save(self, cookie: str, data: dict[str, Any], ttl: timedelta) -> None:
        """Create or replace a session, valid for ``ttl`` from now."""

    async def delete(self, cookie: str) -> None:
        """End a session."""


class PostgresSessionStore:
    """Sessions in the portal's own PostgreSQL database (several portal processes share them)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load(self, cookie: str) -> dict[str, Any] | None:
        """Return the data of a live session, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(web_session.c.data).where(
                        web_session.c.id_hash == _hash(cookie), web_session.c.expires_at > sa.func.now()
                    )
                )
            ).first()
        return dict(row[0]) if row else None

    async def save(self, cookie: str, data: dict[str, Any], ttl: timedelta) -> None:
        """Create or replace a session, valid for ``ttl`` from now."""
        expires = datetime.now(UTC) + ttl
        stmt = insert(web_session).values(id_hash=_hash(cookie), data=data, expires_at=expires)
        stmt = stmt.on_conflict_do_update(
            index_elements=[web_session.c.id_hash], set_={"data": data, "expires_at": expires}
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def delete(self, cookie: str) -> None:
        """End a session."""
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(web_session).where(web_session.c.id_hash == _hash(cookie)))


class MemorySessionStore:
    """Sessions in memory: for view tests only."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[dict[str, Any], datetime]] = {}

    async def load(self, cookie: str) -> dict[str, Any] | None:
        """Return the data of a live session, or None."""
        row = self.rows.get(_hash(cookie))
        if row is None or row[1] <= datetime.now(UTC):
            return None
        return dict(row[0])

    async def save(self, cookie: str, data: dict[str, Any], ttl: timedelta) -> None:
        """Create or replace a session."""
        self.rows[_hash(cookie)] = (dict(data), datetime.now(UTC) + ttl)

    async def delete(self, cookie: str) -> None:
        """End a session."""
        self.rows.pop(_hash(cookie), None)


def new_cookie() -> str:
    """A fresh session cookie value."""
    return secrets.token_urlsafe(32)
