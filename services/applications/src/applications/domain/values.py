"""Value objects describing a filing: who files, for whom, which procedures, and the attachments so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class FilerCategoryCode(StrEnum):
    """The user categories known today; the reference data may add more (a category is a plain code)."""

    SELF = "self"
    LEGAL_REPRESENTATIVE = "legal_representative"
    RELATIVE = "relative"


@dataclass(frozen=True)
class Filer:
    """The signed-in person filing: category, relationship to the applicant, and the basis of representation.

    For a legal representative or relative these come from the representation recorded at identity (``basis``,
    ``relationship``; ``illness_declared`` when the basis is illness), never from the draft.
    """

    user_id: str
    category: str
    relationship: str | None = None
    illness_declared: bool = False
    basis: str | None = None


@dataclass(frozen=True)
class StatusSelection:
    """A status of residence, with the 特定技能 field or the 特定活動 告示 number where the status has them."""

    code: str
    specified_skill_field: str | None = None
    designated_activity_notice: str | None = None


@dataclass(frozen=True)
class Applicant:
    """The person the application is for."""

    date_of_birth: date
    current_status: StatusSelection | None = None
    period_of_stay_expires_on: date | None = None
    period_of_stay_months: int | None = None
    person_id: str | None = None
    email: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class ProcedureRequest:
    """One procedure asked for; ``variant`` where the procedure has variants (re-entry: single or multiple)."""

    code: str
    variant: str | None = None


@dataclass(frozen=True)
class FilingCase:
    """Everything eligibility depends on: filer, applicant, procedures and the requested status."""

    filer: Filer
    applicant: Applicant
    procedures: tuple[ProcedureRequest, ...]
    requested_status: StatusSelection | None = None
    filing_from_abroad: bool = False

    @property
    def procedure_codes(self) -> tuple[str, ...]:
        """Return the codes of the procedures asked for, in order."""
        return tuple(p.code for p in self.procedures)


class AttachmentState(StrEnum):
    """Where the asynchronous checks of one attachment stand."""

    CHECKING = "checking"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class AttachmentSummaryItem:
    """One attachment of the current round as the attachments service reports it."""

    kind: str
    state: AttachmentState
    attachment_id: str | None = None
    reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RequestedDocument:
    """A document the bureau asks for when it returns an application."""

    description: str
    kind: str | None = None
