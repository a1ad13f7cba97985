"""Request and response bodies of the attachments API."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from attachments.config import UploadPolicy
from attachments.service_layer.rounds import round_bytes


class FindingPublic(BaseModel):
    """One reason or warning: a stable code and what to do, in Japanese and English."""

    code: str
    severity: str
    message_ja: str
    message_en: str


class AttachmentPublic(BaseModel):
    """One attachment as the applicant sees it: "checking" until the verdict, then accepted or rejected."""

    attachment_id: uuid.UUID
    application_id: uuid.UUID
    round_number: int
    kind: Literal["document", "photo", "tax_info"]
    document_type: str | None
    filename: str
    size_bytes: int
    sha256: str
    state: Literal["checking", "accepted", "rejected"]
    reasons: list[FindingPublic]
    warnings: list[FindingPublic]
    uploaded_at: datetime
    checked_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> AttachmentPublic:
        """Build from an ``attachment`` row."""
        return cls(
            attachment_id=row["attachment_id"],
            application_id=row["application_id"],
            round_number=row["round_number"],
            kind=row["kind"],
            document_type=row["document_type"],
            filename=row["filename"],
            size_bytes=row["size_bytes"],
            sha256=row["sha256"],
            state=row["state"],
            reasons=[FindingPublic.model_validate(f) for f in row["reasons"]],
            warnings=[FindingPublic.model_validate(f) for f in row["warnings"]],
            uploaded_at=row["uploaded_at"],
            checked_at=row["checked_at"],
        )


class RoundPublic(BaseModel):
    """One attachment round: open or closed, its limit and use, its declaration and its files."""

    round_number: int
    state: Literal["open", "closed"]
    opened_at: datetime
    closed_at: datetime | None
    limit_bytes: int
    used_bytes: int
    remaining_bytes: int
    over_limit_declared: bool
    declaration_form9: str | None = Field(
        description="The 参考様式9 box this round needs ticked (more_will_be_attached_later, "
        "bureau_requested_additional_documents), as the applications service decided; its texts are in "
        "GET /api/applications/{id} (rounds[].declaration_form9)."
    )
    checking: int = Field(description="files still being checked")
    attachments: list[AttachmentPublic]

    @classmethod
    def from_row(
        cls, row: Mapping[Any, Any], files: Sequence[Mapping[Any, Any]], policy: UploadPolicy
    ) -> RoundPublic:
        """Build from an ``attachment_round`` row and its attachments."""
        used = round_bytes(files, policy)
        return cls(
            round_number=row["round_number"],
            state="open" if row["closed_at"] is None else "closed",
            opened_at=row["opened_at"],
            closed_at=row["closed_at"],
            limit_bytes=policy.round_max_bytes,
            used_bytes=used,
            remaining_bytes=max(0, policy.round_max_bytes - used),
            over_limit_declared=row["round_number"] == 1 and row["declaration"] is not None,
            declaration_form9=row["declaration"],
            checking=sum(1 for f in files if f["state"] == "checking"),
            attachments=[AttachmentPublic.from_row(f) for f in files],
        )


class ApplicationAttachmentsPublic(BaseModel):
    """Every round of an application with its attachments."""

    application_id: uuid.UUID
    applicant_id: uuid.UUID
    submitted: bool
    open_round: int | None
    rounds: list[RoundPublic]


class TaxInfoFetchCreate(BaseModel):
    """Whose data and which fiscal year to fetch from Mynaportal."""

    person_name: str = Field(min_length=1, max_length=200)
    fiscal_year: int = Field(ge=2000, le=2100)


class TaxInfoFetchPublic(BaseModel):
    """Fetched data for the applicant to review before registering it."""

    fetch_id: uuid.UUID
    application_id: uuid.UUID
    person_name: str
    fiscal_year: int
    fetched_at: datetime
    expires_at: datetime
    registered_attachment_id: uuid.UUID | None
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> TaxInfoFetchPublic:
        """Build from a ``tax_info_fetch`` row."""
        return cls(
            fetch_id=row["fetch_id"],
            application_id=row["application_id"],
            person_name=row["person_name"],
            fiscal_year=row["fiscal_year"],
            fetched_at=row["fetched_at"],
            expires_at=row["expires_at"],
            registered_attachment_id=row["attachment_id"],
            data=row["data"],
        )


class TaxInfoRegisterCreate(BaseModel):
    """Register reviewed data as an electronic attachment."""

    fetch_id: uuid.UUID
