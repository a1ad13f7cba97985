"""Typed settings of the applications service (environment prefix APPLICATIONS_), failing fast when something is missing."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ApplicationsSettings(ServiceSettings):
    """Settings of the applications service."""

    model_config = SettingsConfigDict(env_prefix="APPLICATIONS_", env_nested_delimiter="__", extra="ignore")
