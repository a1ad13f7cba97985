"""Typed settings of the notifications service (environment prefix NOTIFICATIONS_), failing fast."""

from pydantic import BaseModel
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
    timeout_s: float = 10.0


class MailSettings(BaseModel):
    """Sender identity and the facts every mail repeats."""

    sender: str = "no-reply@ras-immi.example.jp"
    reply_to: str | None = None
    message_id_domain: str = "ras-immi.example.jp"
    web_url: str = "http://127.0.0.1:8080"
    help_desk_hours_ja: str = "平日 9:00〜17:00（祝日、12月29日〜1月3日を除く）"
    help_desk_hours_en: str = "weekdays 9:00-17:00 JST (except holidays and 29 Dec - 3 Jan)"


class DeliverySettings(BaseModel):
    """Retry policy of the delivery worker."""

    poll_interval_s: float = 0.5
    batch_size: int = 20
    max_attempts: int = 12
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0


class NotificationsSettings(ServiceSettings):
    """Settings of the notifications service."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", env_nested_delimiter="__", extra="ignore")

    smtp: SmtpSettings
    mail: MailSettings = MailSettings()
    delivery: DeliverySettings = DeliverySettings()
