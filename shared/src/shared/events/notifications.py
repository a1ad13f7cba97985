"""Events published by the notifications service."""

from __future__ import annotations

import uuid
from typing import ClassVar

from shared.events.envelope import Event


class _EmailEvent(Event):
    producer: ClassVar[str] = "notifications"
    key_field: ClassVar[str] = "delivery_id"

    delivery_id: uuid.UUID
    template: str
    recipient: str
    source_event_id: uuid.UUID


class EmailDelivered(_EmailEvent):
    """The SMTP server accepted the message."""

    message_id: str


class EmailFailed(_EmailEvent):
    """Delivery failed for good (5xx, invalid address) or retries ran out."""

    error: str
    permanent: bool
