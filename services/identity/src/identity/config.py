"""Typed settings of the identity service (environment prefix IDENTITY_), failing fast when something is missing.

Secrets and trust material have no defaults: the service refuses to start without the token signing key, the
card-holder handle pepper and at least one JPKI trust anchor of each kind.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from identity.domain.jpki import MIN_PEPPER_BYTES, CardKind, TrustAnchor
from shared.settings import ServiceSettings


class RevocationSettings(BaseModel):
    """Which revocation backend checks card certificates, and where it asks.

    ``backend``: ``ocsp``, ``crl`` or ``ocsp+crl`` (OCSP first, the CRL when OCSP gives no conclusive answer).
    ``ocsp_url`` serves every anchor unless ``ocsp_urls`` names one for an anchor label. ``crl`` maps an anchor label
    to the CRL's URL (``http(s)://``) or file path.
    """

    backend: Literal["ocsp", "crl", "ocsp+crl"] = "ocsp"
    ocsp_url: str | None = None
    ocsp_urls: dict[str, str] = Field(default_factory=dict)
    crl: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(5.0, gt=0, le=60)

    @model_validator(mode="after")
    def _sources(self) -> RevocationSettings:
        if "ocsp" in self.backend and not (self.ocsp_url or self.ocsp_urls):
            raise ValueError(
                "IDENTITY_REVOCATION__BACKEND uses OCSP: set IDENTITY_REVOCATION__OCSP_URL (or OCSP_URLS)"
            )
        if "crl" in self.backend and not self.crl:
            raise ValueError(
                "IDENTITY_REVOCATION__BACKEND uses CRLs: set IDENTITY_REVOCATION__CRL "
                '(JSON object: anchor label -> URL or file, e.g. {"auth-2023": "http://…/crl/auth-2023"})'
            )
        return self


class JpkiSettings(BaseModel):
    """JPKI trust anchors (several generations each) for authentication and signature certificates.

    Files are PEM or DER, one CA each; the label of a file anchor is its file stem (``auth-2023.pem`` → ``auth-2023``),
    the label of an inline PEM is ``<kind>-<index>``.
    """

    auth_ca_files: list[Path] = Field(default_factory=list)
    sign_ca_files: list[Path] = Field(default_factory=list)
    auth_ca_pems: list[str] = Field(default_factory=list)
    sign_ca_pems: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _anchors(self) -> JpkiSettings:
        for path in [*self.auth_ca_files, *self.sign_ca_files]:
            if not path.is_file():
                raise ValueError(f"JPKI trust anchor file {path} does not exist")
        if not (self.auth_ca_files or self.auth_ca_pems):
            raise ValueError(
                "no JPKI authentication trust anchor: set IDENTITY_JPKI__AUTH_CA_FILES (JSON list of paths)"
            )
        if not (self.sign_ca_files or self.sign_ca_pems):
            raise ValueError(
                "no JPKI signature trust anchor: set IDENTITY_JPKI__SIGN_CA_FILES (JSON list of paths)"
            )
        self.anchors()  # parse now: a broken anchor stops the start
        return self

    def anchors(self) -> list[TrustAnchor]:
        """Return every configured trust anchor, parsed."""
        anchors: list[TrustAnchor] = []
        groups: list[tuple[CardKind, list[Path], list[str]]] = [
            ("auth", self.auth_ca_files, self.auth_ca_pems),
            ("sign", self.sign_ca_files, self.sign_ca_pems),
        ]
        for kind, files, pems in groups:
            for path in files:
                anchors.append(_load_anchor(kind, path.stem, path.read_bytes()))
            for index, pem in enumerate(pems):
                anchors.append(_load_anchor(kind, f"{kind}-{index}", pem.encode()))
        return anchors


def _load_anchor(kind: CardKind, label: str, data: bytes) -> TrustAnchor:
    """Load one anchor, naming it in the error when it cannot be read."""
    try:
        return TrustAnchor.load(kind, label, data)
    except ValueError as exc:
        raise ValueError(f"JPKI trust anchor {label}: {exc}") from None


class IdentityPolicySettings(BaseModel):
    """Timings and limits *(policy; the defaults follow docs/domain.md)*."""

    challenge_ttl_s: int = Field(120, ge=10, le=900)
    setup_link_days: int = Field(30, ge=1)
    reset_link_hours: int = Field(24, ge=1)
    setup_resends_per_hour: int = Field(3, ge=1)
    reset_requests_per_hour: int = Field(3, ge=1)
    access_token_ttl_s: int = Field(900, ge=60, le=3600)
    refresh_token_days: int = Field(30, ge=1)
    account_max_failures: int = Field(5, ge=1)
    address_max_failures: int = Field(20, ge=1)
    lockout_window_minutes: int = Field(15, ge=1)
    lockout_minutes: int = Field(30, ge=1)

    @property
    def challenge_ttl(self) -> timedelta:
        """Return the card challenge lifetime."""
        return timedelta(seconds=self.challenge_ttl_s)


class RateLimit(BaseModel):
    """At most ``limit`` requests per ``window_s`` seconds (fixed windows, counted in PostgreSQL)."""

    limit: int = Field(ge=1, le=100_000)
    window_s: int = Field(ge=1, le=86_400)


class RateLimitSettings(BaseModel):
    """Request limits per client address and per account *(policy)*; over a limit the answer is 429 + Retry-After.

    Per account means per identifier the caller names (the 認証ID or e-mail address typed, whether or not an account
    has it), so a limit never tells whether an account exists.
    """

    card_challenge_per_address: RateLimit = RateLimit(limit=30, window_s=600)
    registration_per_address: RateLimit = RateLimit(limit=10, window_s=3600)
    setup_resend_per_address: RateLimit = RateLimit(limit=10, window_s=3600)
    reset_per_address: RateLimit = RateLimit(limit=10, window_s=3600)
    reset_per_account: RateLimit = RateLimit(limit=5, window_s=3600)
    sign_in_per_address: RateLimit = RateLimit(limit=60, window_s=600)
    sign_in_per_account: RateLimit = RateLimit(limit=20, window_s=600)


class IdentitySettings(ServiceSettings):
    """Settings of the identity service."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", env_nested_delimiter="__", extra="ignore")

    token_private_key_file: Path | None = None
    token_private_key_pem: SecretStr | None = None
    handle_pepper: SecretStr = Field(description="server secret keying card-holder handles (≥ 16 bytes)")
    jpki: JpkiSettings
    revocation: RevocationSettings
    web_base_url: str = Field(description="base URL of the web UI, used in e-mailed links")
    policy: IdentityPolicySettings = IdentityPolicySettings()
    reminder_interval_s: float = Field(3600.0, gt=0, description="how often the password-expiry job runs")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks of the gateway: only from these peers is X-Forwarded-For believed "
        "(default: none, the peer is the client)",
    )
    rate_limits: RateLimitSettings = RateLimitSettings()
    reset_queue_interval_s: float = Field(
        1.0,
        gt=0,
        le=60,
        description="how often queued reset requests are worked off (also woken per request)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"IDENTITY_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                    '(JSON list, e.g. ["10.0.0.5", "10.1.0.0/24"])'
                ) from None
        return value

    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """Return the trusted proxies as networks."""
        return [ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies]

    @field_validator("handle_pepper")
    @classmethod
    def _pepper_length(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().encode()) < MIN_PEPPER_BYTES:
            raise ValueError(f"IDENTITY_HANDLE_PEPPER must be at least {MIN_PEPPER_BYTES} bytes")
        return value

    @field_validator("web_base_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("IDENTITY_WEB_BASE_URL must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _private_key(self) -> IdentitySettings:
        if not self.token_private_key_file and not self.token_private_key_pem:
            raise ValueError("set IDENTITY_TOKEN_PRIVATE_KEY_FILE (the Ed25519 key that signs access tokens)")
        if self.token_private_key_file and not self.token_private_key_file.is_file():
            raise ValueError(f"IDENTITY_TOKEN_PRIVATE_KEY_FILE {self.token_private_key_file} does not exist")
        try:
            key = serialization.load_pem_private_key(self.token_private_key().encode(), password=None)
        except (ValueError, TypeError):
            raise ValueError("the token signing key is not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the token signing key must be Ed25519 (tokens are EdDSA)")
        return self

    def token_private_key(self) -> str:
        """Return the PEM text of the token signing key."""
        if self.token_private_key_pem is not None:
            return self.token_private_key_pem.get_secret_value()
        assert self.token_private_key_file is not None
        return self.token_private_key_file.read_text()

    def pepper(self) -> bytes:
        """Return the card-holder handle pepper."""
        return self.handle_pepper.get_secret_value().encode()
