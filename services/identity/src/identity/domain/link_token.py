"""Single-use e-mail link tokens for password set-up (registration) and reset.

The raw token (32 random bytes, URL-safe base64) exists only in the e-mailed URL; the database keeps its SHA-256 hex
digest and looks it up by that. A token expires after its TTL *(policy: 30 days for set-up, as the real system; the
same default for reset)* and is spent by its first use. Re-sending a link issues a new token; the persistence layer
should mark older unused tokens of the same purpose as used so only the newest link works.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from identity.domain.errors import IdentityRefusal, Reason

__all__ = [
    "DEFAULT_LINK_TOKEN_POLICY",
    "IssuedLinkToken",
    "LinkPurpose",
    "LinkTokenPolicy",
    "LinkTokenRefused",
    "StoredLinkToken",
    "check_link_token",
    "hash_link_token",
    "issue_link_token",
    "use_link_token",
]


class LinkPurpose(StrEnum):
    """What a link is for."""

    PASSWORD_SETUP = "password_setup"
    PASSWORD_RESET = "password_reset"


@dataclass(frozen=True)
class LinkTokenPolicy:
    """Token size and lifetimes *(policy)*."""

    size: int = 32
    setup_ttl: timedelta = timedelta(days=30)
    reset_ttl: timedelta = timedelta(days=30)

    def ttl(self, purpose: LinkPurpose) -> timedelta:
        """Return the lifetime of a link of the given purpose."""
        return self.setup_ttl if purpose is LinkPurpose.PASSWORD_SETUP else self.reset_ttl


DEFAULT_LINK_TOKEN_POLICY = LinkTokenPolicy()


@dataclass(frozen=True)
class StoredLinkToken:
    """What is persisted about a link: the token's hash, never the token."""

    token_hash: str
    purpose: LinkPurpose
    subject_id: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class IssuedLinkToken:
    """A freshly issued link: ``token`` goes into the e-mailed URL only, ``record`` into the database."""

    token: str
    record: StoredLinkToken

    def __repr__(self) -> str:
        return f"IssuedLinkToken(token=<hidden>, record={self.record!r})"


class LinkTokenRefused(IdentityRefusal):
    """A link cannot be used: ``link.unknown``, ``link.expired`` or ``link.used``."""


_REASONS = {
    "link.unknown": (
        "このリンクは無効です。メールに記載されたURLをそのまま開いてください。",
        "This link is not valid. Open the address exactly as it appears in the e-mail.",
    ),
    "link.expired": (
        "このリンクの有効期限が切れています。最初からやり直してください（再送信もできます）。",
        "This link has expired. Start again (you can also have the e-mail sent again).",
    ),
    "link.used": (
        "このリンクは使用済みです。パスワードを忘れた場合は、パスワードの再設定を行ってください。",
        "This link has already been used. If you forgot your password, reset it.",
    ),
}


def _refuse(code: str) -> LinkTokenRefused:
    """Build a refusal with its messages."""
    ja, en = _REASONS[code]
    return LinkTokenRefused(Reason(code, ja, en))


def hash_link_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


def issue_link_token(
    *,
    purpose: LinkPurpose,
    subject_id: str,
    now: datetime,
    policy: LinkTokenPolicy = DEFAULT_LINK_TOKEN_POLICY,
) -> IssuedLinkToken:
    """Create a new random link token for a user (or registration) id."""
    token = secrets.token_urlsafe(policy.size)
    record = StoredLinkToken(
        token_hash=hash_link_token(token),
        purpose=purpose,
        subject_id=subject_id,
        issued_at=now,
        expires_at=now + policy.ttl(purpose),
    )
    return IssuedLinkToken(token=token, record=record)


def check_link_token(
    stored: StoredLinkToken | None, *, purpose: LinkPurpose, now: datetime
) -> StoredLinkToken:
    """Return the stored token when usable for ``purpose`` at ``now``, else raise :class:`LinkTokenRefused`."""
    if stored is None or stored.purpose is not purpose:
        raise _refuse("link.unknown")
    if stored.used_at is not None:
        raise _refuse("link.used")
    if now >= stored.expires_at:
        raise _refuse("link.expired")
    return stored


def use_link_token(stored: StoredLinkToken | None, *, purpose: LinkPurpose, now: datetime) -> StoredLinkToken:
    """Check the token and return it marked used (persist with ``WHERE used_at IS NULL`` to stay single-use)."""
    return replace(check_link_token(stored, purpose=purpose, now=now), used_at=now)
