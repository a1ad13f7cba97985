"""Typed settings of the notifications service (environment prefix NOTIFICATIONS_), failing fast."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SmtpSettings(BaseModel):
    """The SMTP server mail is handed to."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool = False
    validate_certs: bool = True
    ca_file: Path | None = None
    timeout_s: float = 10.0

    @model_validator(mode="after")
    def _consistent(self) -> SmtpSettings:
        if self.use_tls and self.start_tls:
            raise ValueError("SMTP__USE_TLS (implicit TLS) and SMTP__START_TLS exclude each other")
        if (self.username is None) != (self.password is None):
            raise ValueError("set both SMTP__USERNAME and SMTP__PASSWORD, or neither")
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ValueError(f"SMTP__CA_FILE {self.ca_file} does not exist")
        return self


class MailSettings(BaseModel):
    """Sender identity and the facts every mail repeats."""

    sender: str = "no-reply@ras-immi.example.jp"
    reply_to: str | None = None
    message_id_domain: str = "ras-immi.example.jp"
    web_url: str = "http://127.0.0.1:8080"
    help_desk_phone: str | None = None
    help_desk_hours_ja: str = "平日 9:00〜17:00（祝日、12月29日〜1月3日を除く）"
    help_desk_hours_en: str = "weekdays 9:00-17:00 JST (except holidays and 29 Dec - 3 Jan)"


class DeliverySettings(BaseModel):
    """Retry policy and concurrency of the delivery worker."""

    poll_interval_s: float = 0.5
    concurrency: int = 4
    max_attempts: int = 12
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0
    #: While the SMTP server is unavailable the worker pauses between probes, doubling up to this.
    outage_backoff_max_s: float = 30.0
    lease_s: float = 120.0
    drain_s: float = 10.0

    @model_validator(mode="after")
    def _sane(self) -> DeliverySettings:
        if self.concurrency < 1 or self.max_attempts < 1:
            raise ValueError("DELIVERY__CONCURRENCY and DELIVERY__MAX_ATTEMPTS must be at least 1")
        if self.lease_s <= 0 or self.backoff_base_s <= 0:
            raise ValueError("DELIVERY__LEASE_S and DELIVERY__BACKOFF_BASE_S must be positive")
        return self

    @property
    def send_deadline_s(self) -> float:
        """The longest one SMTP conversation may take: half the lease, so a live claim never expires."""
        return self.lease_s / 2


class NotificationsSettings(ServiceSettings):
    """Settings of the notifications service."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", env_nested_delimiter="__", extra="ignore")

    smtp: SmtpSettings
    mail: MailSettings = MailSettings()
    delivery: DeliverySettings = DeliverySettings()
