"""Builders shared by the unit tests of the applications domain (a uniquely named module, not conftest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from applications.domain.clock import JAPAN, FixedClock
from applications.domain.values import (
    Applicant,
    AttachmentState,
    AttachmentSummaryItem,
    Filer,
    FilingCase,
    ProcedureRequest,
    StatusSelection,
)


def japan_clock(day: date, hour: int = 10, minute: int = 0) -> FixedClock:
    """Return a clock set to a time of day in Japan."""
    return FixedClock(datetime(day.year, day.month, day.day, hour, minute, tzinfo=JAPAN))


TODAY = date(2025, 6, 2)
ENGINEER = StatusSelection("engineer_humanities_international")


def make_case(
    *,
    category: str = "self",
    relationship: str | None = None,
    illness_declared: bool = False,
    born: date = date(1995, 5, 1),
    current: StatusSelection | None = ENGINEER,
    expires: date | None = date(2025, 8, 29),
    procedures: tuple[ProcedureRequest, ...] = (ProcedureRequest("extension"),),
    requested: StatusSelection | None = None,
) -> FilingCase:
    """Return a filing case; by default an adult engineer extending their own stay."""
    return FilingCase(
        filer=Filer(
            user_id="user-1", category=category, relationship=relationship, illness_declared=illness_declared
        ),
        applicant=Applicant(
            date_of_birth=born,
            current_status=current,
            period_of_stay_expires_on=expires,
            person_id="person-1",
            email="applicant@example.org",
        ),
        procedures=procedures,
        requested_status=requested,
    )


def attachments(
    *kinds: str, state: AttachmentState = AttachmentState.ACCEPTED
) -> list[AttachmentSummaryItem]:
    """Return an attachment summary with one file of each kind, all in one state."""
    return [AttachmentSummaryItem(kind=k, state=state, attachment_id=f"att-{i}") for i, k in enumerate(kinds)]


SELF_EXTENSION_ATTACHMENTS = (
    "face_photo",
    "supporting_documents_pdf",
    "host_organisation_form",
    "form19_supplementary",
)


def extension_form(**overrides: Any) -> dict[str, Any]:
    """Return a complete, valid extension form matching make_case()'s defaults."""
    values: dict[str, Any] = {
        "nationality": "VIET NAM",
        "date_of_birth": "1995-05-01",
        "family_name": "NGUYEN",
        "given_name": "VAN AN",
        "sex": "male",
        "marital_status": "single",
        "occupation": "会社員",
        "home_country_address": "HANOI",
        "address_in_japan": "東京都新宿区西新宿2-8-1",
        "mobile": "090-1234-5678",
        "passport_number": "C1234567",
        "passport_expiry": "2030-01-31",
        "current_status": "engineer_humanities_international",
        "period_of_stay": "1年",
        "period_of_stay_expiry": "2025-08-29",
        "residence_card_number": "AB12345678CD",
        "requested_period": "3年",
        "reason": "引き続き同じ会社で働くため",
        "criminal_record": "no",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


class CountingSequence:
    """A provisional sequence that counts per day, like the database one."""

    def __init__(self) -> None:
        """Start every day at 1."""
        self.counts: dict[date, int] = {}

    def next_value(self, day: date) -> int:
        """Return the next number of the day."""
        self.counts[day] = self.counts.get(day, 0) + 1
        return self.counts[day]


Builder = Callable[..., FilingCase]
