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


def _document_type() -> Any:
    return Field(
        default=None,
        description="What the file is, as a reference-data attachment kind (e.g. supporting_documents_pdf).",
    )


class AttachmentUploaded(_AttachmentEvent):
    """A file was stored (content-addressed) and waits for its check."""

    round_number: int
    kind: AttachmentKind
    sha256: str
    size_bytes: int
    filename: str
    uploaded_by: uuid.UUID
    document_type: str | None = _document_type()


class AttachmentAccepted(_AttachmentEvent):
    """The check passed; warnings (e.g. low resolution) may still be worth telling."""

    round_number: int
    kind: AttachmentKind
    warnings: list[Finding] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)
    filename: str | None = None
    document_type: str | None = _document_type()
    recipients: list[Recipient] = Field(
        default_factory=list, description="Who may be told about the warnings (applicant first)."
    )


class AttachmentRejected(_AttachmentEvent):
    """The check failed: every reason with how to fix it."""

    round_number: int
    kind: AttachmentKind
    filename: str
    reasons: list[Finding]
    warnings: list[Finding] = Field(default_factory=list)
    recipients: list[Recipient] = Field(default_factory=list)
    document_type: str | None = _document_type()


class TaxInfoRegistered(_AttachmentEvent):
    """Income and resident-tax data fetched from Mynaportal was registered as an electronic attachment."""

    round_number: int
    fiscal_year: int
    person_name: str
    sha256: str | None = Field(default=None, description="Digest of the registered data (the blob's key).")
    registered_by: uuid.UUID | None = None


class AttachmentRemoved(_AttachmentEvent):
    """An attachment of an open round was removed, replaced by a newer one, or went with its deleted draft."""

    round_number: int
    kind: AttachmentKind
    document_type: str | None = _document_type()
    reason: Literal["removed", "replaced", "draft_deleted"] = "removed"
    removed_by: uuid.UUID | None = None
