"""Access tokens: Ed25519-signed JWTs issued by identity and verified by every service."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, Request

from shared.errors import AppError

log = logging.getLogger(__name__)

APPLICANT_ROLE = "applicant"
OFFICER_ROLE = "officer"
OPERATOR_ROLE = "operator"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user id, roles, category and the applicants they may act for."""

    user_id: uuid.UUID
    roles: frozenset[str]
    category: str | None = None
    acts_for: frozenset[uuid.UUID] = field(default_factory=frozenset)
    bureau: str | None = None
    token_id: str | None = None
    session_id: str | None = None
    issued_at: int | None = None

    def may_act_for(self, applicant_id: uuid.UUID) -> bool:
        """Return True when the caller is the applicant or is linked to them."""
        return applicant_id == self.user_id or applicant_id in self.acts_for

    def has_role(self, role: str) -> bool:
        """Return True when the caller holds the role."""
        return role in self.roles


_UNAUTHENTICATED = (
    "サインインの有効期限が切れたか、サインインしていません。もう一度サインインしてください。",
    "You are not signed in or your sign-in has expired. Please sign in again.",
)


class RevocationList:
    """Sign-ins ended before their access tokens expire (filled from identity's sessions-revoked feed).

    Two kinds of entry, each kept only until no token it concerns can still be valid: ended session ids (the
    ``sid`` claim) and, per user, a cut-off (every token of the user issued in an earlier second is refused).
    Checked on every request, after the token cache, so a cached token is refused as soon as its entry arrives.
    """

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self._sessions: dict[str, float] = {}
        self._cutoffs: dict[uuid.UUID, tuple[int, float]] = {}
        self._max_entries = max_entries
        self._next_prune = 0.0
        self._next_warning = 0.0

    def __len__(self) -> int:
        return len(self._sessions) + len(self._cutoffs)

    def revoke(
        self,
        *,
        user_id: uuid.UUID,
        session_ids: Iterable[str] = (),
        issued_before: datetime | None = None,
        valid_until: datetime,
    ) -> None:
        """Record ended sign-ins; entries whose ``valid_until`` has passed are ignored."""
        keep = valid_until.timestamp()
        now = time.time()
        if keep <= now:
            return
        self._prune(now)
        for sid in session_ids:
            self._sessions[str(sid)] = max(keep, self._sessions.get(str(sid), 0.0))
        if issued_before is not None:
            cutoff = int(issued_before.timestamp())
            old_cutoff, old_keep = self._cutoffs.get(user_id, (0, 0.0))
            self._cutoffs[user_id] = (max(cutoff, old_cutoff), max(keep, old_keep))
        if len(self) > self._max_entries and now >= self._next_warning:
            # Entries leave as their tokens expire; this many at once means a flood worth a look, not a refusal.
            self._next_warning = now + 60.0
            log.warning("the revocation list holds %d entries", len(self))

    def is_revoked(self, principal: Principal) -> bool:
        """Return True when the principal's sign-in has been ended."""
        if principal.session_id is not None and principal.session_id in self._sessions:
            return True
        cut = self._cutoffs.get(principal.user_id)
        return cut is not None and (principal.issued_at is None or principal.issued_at < cut[0])

    def _prune(self, now: float) -> None:
        """Drop entries that can no longer match a valid token (at most once a second)."""
        if now < self._next_prune:
            return
        self._next_prune = now + 1.0
        self._sessions = {k: v for k, v in self._sessions.items() if v > now}
        self._cutoffs = {k: v for k, v in self._cutoffs.items() if v[1] > now}


class TokenVerifier:
    """Verifies identity's access tokens with its public key (and, when given, against the revocation list)."""

    def __init__(
        self,
        public_key_pem: str,
        *,
        issuer: str,
        audience: str,
        cache_size: int = 10_000,
        revocations: RevocationList | None = None,
    ) -> None:
        key = load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the token verification key must be an Ed25519 public key (PEM)")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._cache_size = cache_size
        self.revocations = revocations

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token, or raise AppError 401 ``auth.invalid_token``.

        A token verified once is remembered until it expires, so a client's repeated calls cost one signature
        check; an expired or forged token is never cached. The revocation list is checked on every call,
        cached or not: a signed-out token is refused as soon as the revocation reaches this process.
        """
        cached = self._cache.get(token)
        principal: Principal | None = None
        if cached is not None:
            principal, expires = cached
            if time.time() >= expires:
                del self._cache[token]
                principal = None
        if principal is None:
            principal, expires = self._verify(token)
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[token] = (principal, expires)
        if self.revocations is not None and self.revocations.is_revoked(principal):
            self._cache.pop(token, None)
            raise AppError(401, "auth.invalid_token", *_UNAUTHENTICATED)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
            principal = Principal(
                user_id=uuid.UUID(claims["sub"]),
                roles=frozenset(claims.get("roles", [])),
                category=claims.get("category"),
                acts_for=frozenset(uuid.UUID(a) for a in claims.get("acts_for", [])),
                bureau=claims.get("bureau"),
                token_id=claims.get("jti"),
                session_id=claims.get("sid"),
                issued_at=int(claims["iat"]),
            )
            return principal, float(claims["exp"])
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise AppError(401, "auth.invalid_token", *_UNAUTHENTICATED) from exc


class TokenSigner:
    """Signs access tokens; only identity (and tests) hold the private key."""

    def __init__(self, private_key_pem: str, *, issuer: str = "ras-identity", audience: str = "ras") -> None:
        self._key = private_key_pem
        self._issuer = issuer
        self._audience = audience

    def sign(self, principal: Principal, *, ttl: timedelta = timedelta(minutes=15)) -> str:
        """Return a signed token for the principal, valid for ``ttl``."""
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(principal.user_id),
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": principal.token_id or uuid.uuid4().hex,
            "roles": sorted(principal.roles),
            "category": principal.category,
            "acts_for": sorted(str(a) for a in principal.acts_for),
            "bureau": principal.bureau,
        }
        if principal.session_id is not None:
            claims["sid"] = principal.session_id
        return jwt.encode(claims, self._key, algorithm="EdDSA")


def generate_keypair() -> tuple[str, str]:
    """Return a new Ed25519 (private PEM, public PEM) pair."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller, from ``Authorization: Bearer``."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AppError(401, "auth.required", *_UNAUTHENTICATED)
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(token)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(principal: Principal, role: str) -> None:
    """Raise 403 ``auth.role_required`` unless the principal holds the role."""
    if not principal.has_role(role):
        raise AppError(
            403,
            "auth.role_required",
            f"この操作には「{role}」の権限が必要です。",
            f"This needs the '{role}' role.",
        )
