"""Events published by the applications service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import Event, Recipient


class SendItemText(BaseModel):
    """Something the applicant must send, with its name in Japanese and English."""

    model_config = ConfigDict(frozen=True)

    code: str
    name_ja: str
    name_en: str


class FeeLineText(BaseModel):
    """The fee of one procedure of the application (online rate, yen)."""

    model_config = ConfigDict(frozen=True)

    procedure: str
    variant: str | None = None
    amount_yen: int
    name_ja: str
    name_en: str


class BureauContact(BaseModel):
    """The bureau an application is with, as mails name it: names, address and phone (reference data)."""

    model_config = ConfigDict(frozen=True)

    code: str
    name_ja: str
    name_en: str
    address_ja: str
    address_en: str
    phone: str


class Form9Declaration(BaseModel):
    """The 参考様式9 (資料添付に係る申告書) checkbox to tick: its code and its text, verbatim in ja and in en."""

    model_config = ConfigDict(frozen=True)

    tick: Literal["more_will_be_attached_later", "bureau_requested_additional_documents"]
    text_ja: str
    text_en: str


class _ApplicationEvent(Event):
    producer: ClassVar[str] = "applications"
    key_field: ClassVar[str] = "application_id"

    application_id: uuid.UUID
    recipients: list[Recipient] = Field(
        default_factory=list, description="Who must be told (applicant first)."
    )
    bureau_contact: BureauContact | None = Field(
        default=None, description="The bureau the application is with: names, address, phone (added in 1.1)."
    )


class ApplicationDraftCreated(_ApplicationEvent):
    """A draft was created: whose it is, who may file for it and its bureau (attachments opens round 1).

    ``recipients`` are the applicant's and the filer's addresses on record: attachment verdicts go only there.
    """

    applicant_id: uuid.UUID
    filer_user_id: uuid.UUID
    filers: list[uuid.UUID] = Field(
        description="Everyone who may file for the draft (the applicant included)."
    )
    bureau: str
    procedures: list[str] = Field(default_factory=list)


class ApplicationFilersChanged(_ApplicationEvent):
    """Who may file for a draft, or their addresses on record, changed: ``filers`` is the whole set,
    ``recipients`` the current addresses and ``bureau`` the current bureau (the newest event wins)."""

    applicant_id: uuid.UUID
    filers: list[uuid.UUID]
    bureau: str


class ApplicationDraftDeleted(_ApplicationEvent):
    """A draft that was never submitted was deleted; its attachments go with it."""

    applicant_id: uuid.UUID
    deleted_by: uuid.UUID


class ApplicationSubmitted(_ApplicationEvent):
    """An application was submitted and given its provisional receipt number (仮受付番号)."""

    provisional_receipt_number: str
    procedures: list[str]
    status_of_residence: str
    filer_user_id: uuid.UUID
    applicant_id: uuid.UUID
    bureau: str
    over_10mb_declared: bool = False
    declaration_form9: Form9Declaration | None = Field(
        default=None, description="The 参考様式9 box ticked at filing (set only when over_10mb_declared)."
    )


class ReceiptNumberAssigned(_ApplicationEvent):
    """The official receipt number (受付番号) was assigned; the application is received."""

    provisional_receipt_number: str
    receipt_number: str


class ApplicationReviewStarted(_ApplicationEvent):
    """An officer started the review."""

    officer_id: uuid.UUID


class ApplicationReturned(_ApplicationEvent):
    """The bureau asked for documents (返却中); a new attachment round is open."""

    officer_id: uuid.UUID
    requested_documents: list[str]
    message: str = ""
    round_number: int
    receipt_number: str | None = None
    deadline: date | None = Field(default=None, description="The date by which the documents are due.")
    declaration_form9: Form9Declaration | None = Field(
        default=None, description="The 参考様式9 box to tick with the documents; None: no declaration needed."
    )


class ReviewCompleted(_ApplicationEvent):
    """Review completed (審査完了): the fee due and what to send."""

    officer_id: uuid.UUID
    fee_yen: int
    items_to_send: list[str]
    receipt_number: str | None = None
    fee_lines: list[FeeLineText] = Field(default_factory=list, description="The fee per procedure.")
    send_items: list[SendItemText] = Field(
        default_factory=list, description="items_to_send with their names in ja and en."
    )


class CardDispatched(_ApplicationEvent):
    """The residence card was dispatched."""

    officer_id: uuid.UUID
    receipt_number: str | None = None
    dispatched_at: datetime | None = None
    tracking_number: str | None = None


class ApplicationClosed(_ApplicationEvent):
    """The application's life ended normally."""


class ApplicationWithdrawn(_ApplicationEvent):
    """The filer withdrew the application."""

    withdrawn_by: uuid.UUID
    reason: str | None = None
    receipt_number: str | None = None
    provisional_receipt_number: str | None = None


class ApplicationRefused(_ApplicationEvent):
    """The bureau refused the application."""

    officer_id: uuid.UUID
    reason: str = ""
    receipt_number: str | None = None
    provisional_receipt_number: str | None = None


class DocumentsResubmitted(_ApplicationEvent):
    """The documents the bureau asked for were attached (再添付完了): the round is closed and review goes on."""

    resubmitted_by: uuid.UUID
    round_number: int
    receipt_number: str | None = None
    channel: Literal["online", "post", "counter"] = Field(
        default="online",
        description="online: re-attached by the applicant; post or counter: received on paper, recorded by the "
        "officer resubmitted_by.",
    )
