"""Typed settings of the portal (environment prefix WEB_), failing fast when something is missing."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import TelemetrySettings


class WebSettings(BaseSettings):
    """Where the services are, the portal's own database (sessions only), cookies and session lifetimes."""

    model_config = SettingsConfigDict(env_prefix="WEB_", env_nested_delimiter="__", extra="ignore")

    database_url: str = Field(description="postgresql+asyncpg://… of the portal's session store")
    identity_url: str = Field(description="identity's base URL (inside the network, not through the gateway)")
    applications_url: str
    attachments_url: str
    notifications_url: str
    public_url: str = Field(default="http://127.0.0.1:8080", description="the gateway's public address")
    card_gateway_url: str = Field(
        default="http://127.0.0.1:8105", description="the card-gateway on the applicant's own machine"
    )
    cookie_secure: bool = Field(default=False, description="Secure and __Host- cookies (turn on with TLS)")
    session_idle_minutes: int = Field(default=60, ge=5, le=24 * 60)
    staff_session_idle_minutes: int = Field(default=20, ge=5, le=240)
    api_timeout_s: float = Field(default=10.0, gt=0, le=60)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="peers whose X-Forwarded-For names the browser's address (the gateway)",
    )
    telemetry: TelemetrySettings = TelemetrySettings()

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("WEB_DATABASE_URL must start with postgresql+asyncpg://")
        return value

    @property
    def cookie_name(self) -> str:
        """The session cookie's name: ``__Host-`` prefixed when cookies are Secure."""
        return "__Host-ras_session" if self.cookie_secure else "ras_session"
