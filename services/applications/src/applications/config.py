"""Typed settings of the applications service (environment prefix APPLICATIONS_), failing fast when something is missing."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

BUREAU_PATTERN = r"^[A-Z0-9]{2,6}$"


class ReceiptJobSettings(BaseModel):
    """The job that assigns official receipt numbers (受付番号); the real system runs it at about 02:10 JST."""

    enabled: bool = True
    run_at: time = time(2, 10)
    timezone: str = "Asia/Tokyo"
    batch_size: int = Field(default=200, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class ApplicationsSettings(ServiceSettings):
    """Settings of the applications service."""

    model_config = SettingsConfigDict(env_prefix="APPLICATIONS_", env_nested_delimiter="__", extra="ignore")

    reference_data_dir: Path | None = Field(
        default=None, description="Directory of the reference data version files; default: the shipped ones."
    )
    default_bureau: str = Field(
        default="TKY", pattern=BUREAU_PATTERN, description="Bureau of a draft that names none."
    )
    receipt_job: ReceiptJobSettings = ReceiptJobSettings()
