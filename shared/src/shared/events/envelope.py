"""The event envelope every message on the bus carries, and the base class of every contract."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


def _kebab(name: str) -> str:
    """Turn a CamelCase event name into kebab-case (``ApplicationSubmitted`` -> ``application-submitted``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every integration event: the envelope fields plus the event's own payload fields.

    Subclasses set ``producer`` (the owning service), ``major`` (the contract's major version) and
    ``key_field`` (the aggregate id that becomes the Kafka message key).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    producer: ClassVar[str] = ""
    major: ClassVar[int] = 1
    key_field: ClassVar[str] = ""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique id of this event.")
    event_type: str = Field(default="", description="Name of the contract, e.g. ApplicationSubmitted.")
    event_version: int = Field(default=1, description="Major version of the contract.")
    occurred_at: datetime = Field(default_factory=utcnow, description="When the fact happened (UTC).")
    correlation_id: uuid.UUID | None = Field(default=None, description="Id shared by a whole conversation.")
    causation_id: uuid.UUID | None = Field(
        default=None, description="Id of the event or request that caused it."
    )

    def model_post_init(self, __context: Any) -> None:
        """Fill the type and version from the class, so callers never spell them."""
        object.__setattr__(self, "event_type", type(self).__name__)
        object.__setattr__(self, "event_version", type(self).major)

    @classmethod
    def topic(cls) -> str:
        """Return the topic, ``<producer>.<event-kebab>.v<major>``."""
        return f"{cls.producer}.{_kebab(cls.__name__)}.v{cls.major}"

    @classmethod
    def dlq_topic(cls) -> str:
        """Return the dead-letter topic beside this event's topic."""
        return f"{cls.topic()}.dlq"

    def key(self) -> str:
        """Return the message key: the aggregate id named by ``key_field``."""
        return str(getattr(self, type(self).key_field))

    def caused(self, **values: Any) -> dict[str, Any]:
        """Return envelope values for an event caused by this one (same correlation, causation = this)."""
        return {
            "correlation_id": self.correlation_id or self.event_id,
            "causation_id": self.event_id,
            **values,
        }


class Recipient(BaseModel):
    """A person an event's e-mail goes to; ``locale`` None means send both languages."""

    model_config = ConfigDict(frozen=True)

    email: str
    locale: str | None = None
    role: str = Field(default="applicant", description="applicant | filer | user")
    name: str | None = None


class Finding(BaseModel):
    """One reason or warning of an attachment verdict: a stable code and how to fix it in ja and en."""

    model_config = ConfigDict(frozen=True)

    code: str
    message_ja: str
    message_en: str
