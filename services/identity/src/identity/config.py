"""Typed settings of the identity service (environment prefix IDENTITY_), failing fast when something is missing."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    """Settings of the identity service."""

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", env_nested_delimiter="__", extra="ignore")

    token_private_key_file: Path | None = None
