"""Typed settings (env prefix ``CARD_GATEWAY_``): refuse to start on a non-loopback host or a missing origin list."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.http import HttpLimits
from shared.settings import TelemetrySettings

DEFAULT_PORT = 17980


def is_loopback(host: str) -> bool:
    """Return whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalise_origin(origin: str) -> str:
    """Return ``scheme://host[:port]`` in lower case; raise ValueError for anything that is not an exact origin."""
    value = origin.strip().rstrip("/")
    parts = urlsplit(value)
    if value in ("*", "null") or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{origin!r} is not an origin like https://example.go.jp")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{origin!r} must be scheme://host[:port] only")
    return value.lower()


class CardGatewaySettings(BaseSettings):
    """Settings of the local card-gateway API; the origin list has no default on purpose."""

    model_config = SettingsConfigDict(env_prefix="CARD_GATEWAY_", env_nested_delimiter="__", extra="ignore")

    host: str = Field("127.0.0.1", description="loopback address to bind (anything else is refused)")
    port: int = Field(DEFAULT_PORT, ge=1, le=65535)
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        description="web origins allowed to call the API (comma-separated or JSON list), e.g. https://ras.example.go.jp"
    )
    operation_timeout_s: float = Field(30.0, gt=0, le=300, description="overall limit of one card operation")
    busy_timeout_s: float = Field(2.0, ge=0, le=60, description="how long to wait for a reader in use")
    share_mode: Literal["exclusive", "shared"] = Field(
        "exclusive", description="exclusive: another program holding the card gives reader.busy at once"
    )
    check_host_header: bool = Field(
        True, description="refuse requests whose Host is not loopback (DNS rebinding)"
    )
    telemetry: TelemetrySettings = TelemetrySettings(json_logs=False)
    http: HttpLimits = HttpLimits()

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if not is_loopback(value):
            raise ValueError(
                f"CARD_GATEWAY_HOST={value!r}: the card gateway listens on loopback only (127.0.0.1 or ::1)"
            )
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [item for item in value.split(",") if item.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _exact_origins(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("CARD_GATEWAY_ALLOWED_ORIGINS must name at least one web origin")
        return [normalise_origin(origin) for origin in value]
