"""Domain events recorded by the Application aggregate (past tense); the service layer turns them into messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from applications.domain.fees import FeeLine, SendItemDue
from applications.domain.form9 import Form9Text
from applications.domain.values import ProcedureRequest, RequestedDocument


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """What every event says: which application, when, and who did it."""

    application_id: str
    occurred_at: datetime
    actor_id: str


@dataclass(frozen=True, kw_only=True)
class DraftCreated(DomainEvent):
    """A draft was created after the eligibility check passed."""

    procedures: tuple[ProcedureRequest, ...]


@dataclass(frozen=True, kw_only=True)
class ApplicationSubmitted(DomainEvent):
    """The draft was submitted and given its provisional receipt number."""

    provisional_receipt_number: str
    procedures: tuple[ProcedureRequest, ...]
    filer_user_id: str
    applicant_person_id: str | None
    applicant_email: str | None
    over_10mb_declared: bool = False


@dataclass(frozen=True, kw_only=True)
class ReceiptNumberAssigned(DomainEvent):
    """The bureau received the application and it has its official receipt number."""

    receipt_number: str


@dataclass(frozen=True, kw_only=True)
class ReviewStarted(DomainEvent):
    """An officer started the review."""


@dataclass(frozen=True, kw_only=True)
class ApplicationReturned(DomainEvent):
    """The bureau asked for documents; a new attachment round is open."""

    round_number: int
    requested_documents: tuple[RequestedDocument, ...]
    note: str | None
    deadline: date | None = None
    form9: Form9Text | None = None


@dataclass(frozen=True, kw_only=True)
class DocumentsResubmitted(DomainEvent):
    """The requested documents arrived (online, or by post or at the counter as an officer recorded): review goes on."""

    round_number: int
    channel: str = "online"


@dataclass(frozen=True, kw_only=True)
class ReviewCompleted(DomainEvent):
    """Review is completed: the fee due and what the applicant must send."""

    fee_lines: tuple[FeeLine, ...]
    fee_total: int
    items_to_send: tuple[SendItemDue, ...]


@dataclass(frozen=True, kw_only=True)
class CardDispatched(DomainEvent):
    """The residence card (or certificate) was sent."""

    tracking_number: str | None


@dataclass(frozen=True, kw_only=True)
class ApplicationClosed(DomainEvent):
    """The application is finished."""


@dataclass(frozen=True, kw_only=True)
class ApplicationWithdrawn(DomainEvent):
    """The filer withdrew the application."""

    reason: str | None


@dataclass(frozen=True, kw_only=True)
class ApplicationRefused(DomainEvent):
    """The bureau refused the application."""

    reason: str | None
