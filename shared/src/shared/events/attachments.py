"""Events published by the attachments service."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal

from pydantic import Field

from shared.events.envelope import Event, Finding, Recipient

AttachmentKind = Literal["document", "photo", "tax_info"]


class _AttachmentEvent(Event):
    producer: ClassVar[str] = "attachments"
    key_field: ClassVar[str] = "application_id"

    application_id: uuid.UUID
    attachment_id: uuid.UUID


class AttachmentUploaded(_AttachmentEvent):
    """A file was stored (content-addressed) and waits for its check."""

    round_number: int
    kind: AttachmentKind
    sha256: str
    size_bytes: int
    filename: str
    uploaded_by: uuid.UUID


class AttachmentAccepted(_AttachmentEvent):
    """The check passed; warnings (e.g. low resolution) may still be worth telling."""

    round_number: int
    kind: AttachmentKind
    warnings: list[Finding] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)


class AttachmentRejected(_AttachmentEvent):
    """The check failed: every reason with how to fix it."""

    round_number: int
    kind: AttachmentKind
    filename: str
    reasons: list[Finding]
    warnings: list[Finding] = Field(default_factory=list)
    recipients: list[Recipient] = Field(default_factory=list)


class TaxInfoRegistered(_AttachmentEvent):
    """Income and resident-tax data fetched from Mynaportal was registered as an electronic attachment."""

    round_number: int
    fiscal_year: int
    person_name: str
