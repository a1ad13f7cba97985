"""Typed settings of the attachments service (environment prefix ATTACHMENTS_), failing fast when something is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from attachments.checks import CheckPolicy, SandboxLimits
from attachments.checks.models import MB, PDF_MAX_BYTES
from shared.settings import ServiceSettings


class UploadPolicy(BaseModel):
    """Limits of one attachment round (domain.md §5; the defaults follow today's rule, *policy*)."""

    round_max_bytes: int = Field(
        default=PDF_MAX_BYTES,
        gt=0,
        description="bytes per round, over the kinds below (= the checker's PDF limit)",
    )
    round_limit_kinds: tuple[str, ...] = Field(
        default=("document",), description="kinds counted against round_max_bytes (2026 rebuild: + photo)"
    )
    photo_max_bytes: int = Field(default=10 * MB, gt=0, description="bytes per face photo")
    max_files_per_round: dict[str, int] = Field(
        default_factory=lambda: {"document": 20, "photo": 1, "tax_info": 5},
        description="files per kind and round, not counting rejected ones",
    )
    chunk_bytes: int = Field(default=64 * 1024, gt=0, description="bytes read per chunk while streaming")
    max_filename_chars: int = 255


class CheckerSettings(BaseModel):
    """The checker process: sandbox limits, check policy and pre-started workers."""

    policy: CheckPolicy = Field(default_factory=CheckPolicy)
    sandbox: SandboxLimits = Field(default_factory=SandboxLimits)
    pool_size: int = Field(default=1, ge=1)


class MynaportalSettings(BaseModel):
    """Where the Mynaportal(-like) provider is; locally its simulator (attachments.mynaportal_simulator)."""

    base_url: str = "http://127.0.0.1:8199"
    timeout_s: float = Field(default=5.0, gt=0)
    retry_after_s: int = Field(default=60, ge=1, description="what a 503 tells the client to wait")
    fetch_valid_minutes: int = Field(default=30, ge=1, description="how long fetched data may be registered")


class AttachmentsSettings(ServiceSettings):
    """Settings of the attachments service and its checker process."""

    model_config = SettingsConfigDict(env_prefix="ATTACHMENTS_", env_nested_delimiter="__", extra="ignore")

    blob_dir: Path = Field(description="root of the filesystem blob store (ATTACHMENTS_BLOB_DIR)")
    upload: UploadPolicy = Field(default_factory=UploadPolicy)
    checker: CheckerSettings = Field(default_factory=CheckerSettings)
    mynaportal: MynaportalSettings = Field(default_factory=MynaportalSettings)

    @field_validator("blob_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _limits_agree(self) -> Self:
        check_limits_agree(self.upload, self.checker)
        return self


def check_limits_agree(upload: UploadPolicy, checker: CheckerSettings) -> None:
    """The upload's limit and the checker's PDF limit must be the same number of bytes (both name it to users)."""
    upload_limit, checker_limit = upload.round_max_bytes, checker.policy.pdf.max_bytes
    if upload_limit != checker_limit:
        raise ValueError(
            f"upload.round_max_bytes ({upload_limit:,}) and checker.policy.pdf.max_bytes ({checker_limit:,}) "
            "must be equal: a PDF the upload takes must not be refused by the checker for its size"
        )
