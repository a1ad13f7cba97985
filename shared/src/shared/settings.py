"""The settings base every service extends: typed, read from the environment, failing fast."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.http import HttpLimits


class KafkaSettings(BaseModel):
    """Where the Kafka broker is and how to talk to it."""

    bootstrap_servers: str = Field(description="host:port[,host:port]")
    request_timeout_ms: int = 10_000


class AuthSettings(BaseModel):
    """How to verify access tokens issued by identity (Ed25519 / EdDSA JWT)."""

    public_key_file: Path | None = None
    public_key_pem: str | None = None
    issuer: str = "ras-identity"
    audience: str = "ras"
    revocation_feed: bool = Field(
        True, description="follow identity's sessions-revoked topic and refuse tokens of ended sign-ins"
    )
    revocation_lookback_s: int = Field(
        3660,
        ge=60,
        le=86_400,
        description="how far back the feed starts: at least the longest token lifetime",
    )

    @model_validator(mode="after")
    def _one_key(self) -> AuthSettings:
        if not self.public_key_pem and not self.public_key_file:
            raise ValueError(
                "set AUTH__PUBLIC_KEY_FILE or AUTH__PUBLIC_KEY_PEM (identity's token verification key)"
            )
        if self.public_key_file and not self.public_key_file.is_file():
            raise ValueError(f"AUTH__PUBLIC_KEY_FILE {self.public_key_file} does not exist")
        return self

    def public_key(self) -> str:
        """Return the PEM text of the verification key."""
        if self.public_key_pem:
            return self.public_key_pem
        assert self.public_key_file is not None
        return self.public_key_file.read_text()


class TelemetrySettings(BaseModel):
    """Tracing and logging: OTLP export only when an endpoint is configured."""

    otlp_endpoint: str | None = None
    log_level: str = "INFO"
    json_logs: bool = True


class MessagingSettings(BaseModel):
    """Outbox relay and consumer retry policy."""

    outbox_poll_interval_s: float = 0.5
    outbox_batch_size: int = 500
    outbox_max_backoff_s: float = 5.0
    consumer_max_attempts: int = 3
    consumer_backoff_s: float = 0.2
    #: While a dependency is unavailable a consumer holds the message and retries, the backoff doubling up to this.
    consumer_transient_backoff_max_s: float = 30.0
    #: How long one delivery is held before it goes back to Kafka uncommitted and is fetched again (must stay well
    #: below the consumer's max.poll.interval of 300 s, or the member would be dropped from its group).
    consumer_hold_s: float = 60.0

    @model_validator(mode="after")
    def _sane(self) -> MessagingSettings:
        if self.consumer_max_attempts < 1:
            raise ValueError("MESSAGING__CONSUMER_MAX_ATTEMPTS must be at least 1")
        if not 0 < self.consumer_hold_s < 240:
            raise ValueError("MESSAGING__CONSUMER_HOLD_S must be between 0 and 240 seconds")
        if self.consumer_transient_backoff_max_s <= 0 or self.consumer_backoff_s <= 0:
            raise ValueError("MESSAGING__CONSUMER_BACKOFF_S and ..._TRANSIENT_BACKOFF_MAX_S must be positive")
        if self.consumer_transient_backoff_max_s >= self.consumer_hold_s:
            raise ValueError(
                "MESSAGING__CONSUMER_TRANSIENT_BACKOFF_MAX_S must be below MESSAGING__CONSUMER_HOLD_S, or a held "
                "message would go back to Kafka at once, again and again, without waiting"
            )
        return self


class ServiceSettings(BaseSettings):
    """Base of every service's settings: database, broker, auth, telemetry. Missing values stop the start."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    database_url: str = Field(description="postgresql+asyncpg://user@host:port/db")
    kafka: KafkaSettings
    auth: AuthSettings
    telemetry: TelemetrySettings = TelemetrySettings()
    messaging: MessagingSettings = MessagingSettings()
    http: HttpLimits = HttpLimits()
    public_base_url: str = "http://127.0.0.1:8000"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("DATABASE_URL must start with postgresql+asyncpg://")
        return value
