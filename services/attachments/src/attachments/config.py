"""Typed settings of the attachments service (environment prefix ATTACHMENTS_), failing fast when something is missing."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AttachmentsSettings(ServiceSettings):
    """Settings of the attachments service."""

    model_config = SettingsConfigDict(env_prefix="ATTACHMENTS_", env_nested_delimiter="__", extra="ignore")
