"""What each person-facing event tells whom: the mails one event makes, with only the facts each mail needs.

``mails_for(event)`` is pure (no I/O): the consumer turns each ``PlannedMail`` into a delivery row. Applications
events name their recipients (applicant first); the receipt goes to every one of them, so the applicant's own
address gets it even when someone else filed. One event never gives one address the same template twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from shared.events import (
    ApplicationRefused,
    ApplicationReturned,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    AttachmentRejected,
    AuthIdIssued,
    CardDispatched,
    Event,
    PasswordExpiring,
    PasswordResetRequested,
    PasswordSetupRequested,
    ReceiptNumberAssigned,
    Recipient,
    ReviewCompleted,
    UserRegistered,
)
from shared.events.applications import Form9Declaration

#: Templates whose body holds a secret (a link that sets a password, or the 認証ID): the body is wiped once
#: delivered, and an operator cannot re-send a delivered one (the person asks identity for a new link instead).
SENSITIVE_TEMPLATES = frozenset({"password_setup", "auth_id_issued", "password_reset"})


@dataclass(frozen=True)
class PlannedMail:
    """One mail an event asks for: the template, who gets it, in which language, and its facts."""

    template: str
    recipient: str
    locale: str | None
    context: dict[str, Any] = field(default_factory=dict)
    role: str = "user"
    application_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None

    @property
    def sensitive(self) -> bool:
        """True when the body holds a secret."""
        return self.template in SENSITIVE_TEMPLATES


E = TypeVar("E", bound=Event)
Planner = Callable[[Any], list[PlannedMail]]
PLANNERS: dict[type[Event], Planner] = {}


def plans(
    event_type: type[E],
) -> Callable[[Callable[[E], list[PlannedMail]]], Callable[[E], list[PlannedMail]]]:
    """Register the function that plans the mails of ``event_type``."""

    def register(fn: Callable[[E], list[PlannedMail]]) -> Callable[[E], list[PlannedMail]]:
        PLANNERS[event_type] = fn
        return fn

    return register


def consumed_events() -> list[type[Event]]:
    """Return every event contract this service turns into mail."""
    return list(PLANNERS)


def mails_for(event: Event) -> list[PlannedMail]:
    """Return the mails ``event`` asks for, at most one per address and template."""
    planned = PLANNERS[type(event)](event)
    bureau = getattr(event, "bureau_contact", None)
    if bureau is not None:
        # Every mail about an application names the bureau it is with (address and phone: reference data).
        planned = [replace(m, context={**m.context, "bureau": bureau.model_dump()}) for m in planned]
    seen: set[tuple[str, str]] = set()
    unique = []
    for mail in planned:
        key = (mail.template, mail.recipient.strip().lower())
        if key not in seen:
            seen.add(key)
            unique.append(mail)
    return unique


def _form9(declaration: Form9Declaration | None) -> dict[str, str] | None:
    """Return the 参考様式9 checkbox as the application's owner worded it (None: no declaration to mention)."""
    return declaration.model_dump() if declaration is not None else None


def _to_user(template: str, event: Any, **context: Any) -> list[PlannedMail]:
    return [
        PlannedMail(
            template=template,
            recipient=event.email,
            locale=event.locale,
            context=context,
            role="user",
            user_id=event.user_id,
        )
    ]


def _to_recipients(
    template: str, application_id: uuid.UUID, recipients: Iterable[Recipient], **context: Any
) -> list[PlannedMail]:
    return [
        PlannedMail(
            template=template,
            recipient=r.email,
            locale=r.locale,
            context={**context, "role": r.role},
            role=r.role,
            application_id=application_id,
        )
        for r in recipients
    ]


@plans(UserRegistered)
def registration_received(event: UserRegistered) -> list[PlannedMail]:
    """Registration received: the set-up link follows."""
    return _to_user("registration_received", event)


@plans(PasswordSetupRequested)
def password_setup(event: PasswordSetupRequested) -> list[PlannedMail]:
    """The single-use link to set the password, and when it dies."""
    return _to_user("password_setup", event, setup_url=event.setup_url, expires_at=event.expires_at)


@plans(AuthIdIssued)
def auth_id_issued(event: AuthIdIssued) -> list[PlannedMail]:
    """The 認証ID, once the password is set."""
    return _to_user("auth_id_issued", event, auth_id=event.auth_id)


@plans(PasswordExpiring)
def password_expiring(event: PasswordExpiring) -> list[PlannedMail]:
    """A reminder that the password expires soon."""
    return _to_user("password_expiring", event, expires_at=event.expires_at, days_left=event.days_left)


@plans(PasswordResetRequested)
def password_reset(event: PasswordResetRequested) -> list[PlannedMail]:
    """The link to reset a forgotten password."""
    return _to_user("password_reset", event, reset_url=event.reset_url, expires_at=event.expires_at)


@plans(ApplicationSubmitted)
def application_submitted(event: ApplicationSubmitted) -> list[PlannedMail]:
    """The receipt with the provisional number, to the applicant and to the filer."""
    return _to_recipients(
        "application_submitted",
        event.application_id,
        event.recipients,
        provisional_receipt_number=event.provisional_receipt_number,
        procedures=list(event.procedures),
        submitted_at=event.occurred_at,
        declaration_form9=_form9(event.declaration_form9),
    )


@plans(ReceiptNumberAssigned)
def receipt_number_assigned(event: ReceiptNumberAssigned) -> list[PlannedMail]:
    """The official receipt number."""
    return _to_recipients(
        "receipt_number_assigned",
        event.application_id,
        event.recipients,
        provisional_receipt_number=event.provisional_receipt_number,
        receipt_number=event.receipt_number,
    )


@plans(AttachmentRejected)
def attachment_rejected(event: AttachmentRejected) -> list[PlannedMail]:
    """Each reason the file was refused and how to fix it."""
    return _to_recipients(
        "attachment_rejected",
        event.application_id,
        event.recipients,
        filename=event.filename,
        attachment_kind=event.kind,
        reasons=[r.model_dump() for r in event.reasons],
        warnings=[w.model_dump() for w in event.warnings],
    )


@plans(ApplicationReturned)
def application_returned(event: ApplicationReturned) -> list[PlannedMail]:
    """The documents requested, by when, and 参考様式9 only when the application's rule asks for it."""
    return _to_recipients(
        "application_returned",
        event.application_id,
        event.recipients,
        requested_documents=list(event.requested_documents),
        message=event.message,
        round_number=event.round_number,
        receipt_number=event.receipt_number,
        deadline=event.deadline,
        declaration_form9=_form9(event.declaration_form9),
    )


@plans(ReviewCompleted)
def review_completed(event: ReviewCompleted) -> list[PlannedMail]:
    """Review completed: the fee and what to send."""
    return _to_recipients(
        "review_completed",
        event.application_id,
        event.recipients,
        fee_yen=event.fee_yen,
        items_to_send=list(event.items_to_send),
        receipt_number=event.receipt_number,
    )


@plans(CardDispatched)
def card_dispatched(event: CardDispatched) -> list[PlannedMail]:
    """The card is on its way."""
    return _to_recipients(
        "card_dispatched",
        event.application_id,
        event.recipients,
        receipt_number=event.receipt_number,
        dispatched_at=event.dispatched_at or event.occurred_at,
        tracking_number=event.tracking_number,
    )


@plans(ApplicationRefused)
def application_refused(event: ApplicationRefused) -> list[PlannedMail]:
    """The refusal (不許可), the bureau's message and what to do next, to the applicant and the filer."""
    return _to_recipients(
        "application_refused",
        event.application_id,
        event.recipients,
        reason=event.reason,
        receipt_number=event.receipt_number,
        provisional_receipt_number=event.provisional_receipt_number,
    )


@plans(ApplicationWithdrawn)
def application_withdrawn(event: ApplicationWithdrawn) -> list[PlannedMail]:
    """The withdrawal confirmed, to the applicant and the filer."""
    return _to_recipients(
        "application_withdrawn",
        event.application_id,
        event.recipients,
        reason=event.reason,
        receipt_number=event.receipt_number,
        provisional_receipt_number=event.provisional_receipt_number,
        withdrawn_at=event.occurred_at,
    )
