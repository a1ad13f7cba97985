"""Access tokens: Ed25519-signed JWTs issued by identity and verified by every service."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, Request

from shared.errors import AppError

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


class TokenVerifier:
    """Verifies identity's access tokens with its public key."""

    def __init__(self, public_key_pem: str, *, issuer: str, audience: str, cache_size: int = 10_000) -> None:
        key = load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the token verification key must be an Ed25519 public key (PEM)")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._cache_size = cache_size

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token, or raise AppError 401 ``auth.invalid_token``.

        A token verified once is remembered until it expires, so a client's repeated calls cost one signature
        check; an expired or forged token is never cached.
        """
        cached = self._cache.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() < expires:
                return principal
            del self._cache[token]
        principal, expires = self._verify(token)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[token] = (principal, expires)
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
