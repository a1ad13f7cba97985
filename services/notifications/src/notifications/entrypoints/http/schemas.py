"""HTTP schemas of the delivery log (no bodies: they may hold secrets and are not the operator's to read)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

DeliveryStatus = Literal["pending", "sending", "delivered", "failed"]


class DeliveryPublic(BaseModel):
    """One mail as the delivery log shows it to operators."""

    id: uuid.UUID
    template: str
    recipient: str
    recipient_role: str | None
    locale: str | None
    application_id: uuid.UUID | None
    user_id: uuid.UUID | None
    source_event_id: uuid.UUID
    source_event_type: str
    subject: str
    message_id: str
    status: DeliveryStatus
    attempts: int
    in_doubt_sends: int = Field(
        description="Times the mail was sent again after a worker died mid-send (same Message-ID)."
    )
    permanent_failure: bool | None
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="When a pending mail is tried next.")
    resend_of: uuid.UUID | None
    requested_by: uuid.UUID | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> DeliveryPublic:
        """Build from an ``email_delivery`` row."""
        values = dict(row._mapping)
        if values["status"] not in ("pending", "sending"):
            values["next_attempt_at"] = None
        return cls.model_validate(values)


class DeliveryList(BaseModel):
    """A page of the delivery log, newest first."""

    items: list[DeliveryPublic]
    limit: int
    offset: int


class Problem(BaseModel):
    """RFC 9457 problem details with a stable code and messages in Japanese and English."""

    type: str
    title: str
    status: int
    code: str
    message_ja: str
    message_en: str
