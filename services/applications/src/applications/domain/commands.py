"""Commands (imperative) the service layer handles, one per transition, and ``handle`` that applies one.

Each command names the application and the actor; ``handle`` calls the aggregate method of the same name, which
checks the state machine and records the domain event. Creating a draft is a class method
(:meth:`Application.create_draft`), so it has no command here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from applications.domain.application import Application, AttachmentRound, ReviewOutcome
from applications.domain.clock import Clock
from applications.domain.forms import FormValidation
from applications.domain.receipt_numbers import ProvisionalSequence
from applications.domain.values import AttachmentSummaryItem, RequestedDocument
from applications.reference.loader import ReferenceData


@dataclass(frozen=True, kw_only=True)
class Command:
    """What every command says: which application and who asks."""

    application_id: str
    actor_id: str


@dataclass(frozen=True, kw_only=True)
class SaveDraft(Command):
    """Save one procedure's form values (partial is fine)."""

    procedure: str
    values: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class SubmitApplication(Command):
    """Submit the draft with the attachments of round 1."""

    attachments: Sequence[AttachmentSummaryItem]
    over_10mb_declared: bool = False


@dataclass(frozen=True, kw_only=True)
class AssignReceiptNumber(Command):
    """Record the official receipt number."""

    receipt_number: str


@dataclass(frozen=True, kw_only=True)
class StartReview(Command):
    """Start the review."""


@dataclass(frozen=True, kw_only=True)
class ReturnApplication(Command):
    """Ask for documents and open a new attachment round."""

    requested_documents: Sequence[RequestedDocument]
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResubmitDocuments(Command):
    """Finish the open attachment round."""

    attachments: Sequence[AttachmentSummaryItem]


@dataclass(frozen=True, kw_only=True)
class CompleteReview(Command):
    """Complete the review (fee and items to send are computed)."""


@dataclass(frozen=True, kw_only=True)
class RecordCardDispatch(Command):
    """Record that the card was sent."""

    tracking_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class CloseApplication(Command):
    """Close the application."""


@dataclass(frozen=True, kw_only=True)
class WithdrawApplication(Command):
    """Withdraw the application."""

    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class RefuseApplication(Command):
    """Refuse the application."""

    reason: str | None = None


@dataclass(frozen=True)
class Context:
    """What handling a command may need besides the aggregate."""

    reference: ReferenceData
    clock: Clock
    sequence: ProvisionalSequence | None = field(default=None)


Result = FormValidation | str | AttachmentRound | ReviewOutcome | None


def handle(application: Application, command: Command, context: Context) -> Result:
    """Apply a command to the aggregate and return what its method returns; raise its domain errors."""
    if command.application_id != application.id:
        raise ValueError(f"command for {command.application_id} given application {application.id}")
    ref, clock, actor = context.reference, context.clock, command.actor_id
    match command:
        case SaveDraft():
            return application.save_draft(command.procedure, command.values, reference=ref, clock=clock)
        case SubmitApplication():
            if context.sequence is None:
                raise ValueError("submitting needs a provisional sequence in the context")
            return application.submit(
                actor_id=actor,
                attachments=command.attachments,
                reference=ref,
                clock=clock,
                sequence=context.sequence,
                over_10mb_declared=command.over_10mb_declared,
            )
        case AssignReceiptNumber():
            application.assign_receipt_number(command.receipt_number, actor_id=actor, clock=clock)
            return None
        case StartReview():
            application.start_review(actor_id=actor, clock=clock)
            return None
        case ReturnApplication():
            return application.return_for_documents(
                command.requested_documents, actor_id=actor, clock=clock, note=command.note
            )
        case ResubmitDocuments():
            application.resubmit_documents(
                actor_id=actor, attachments=command.attachments, reference=ref, clock=clock
            )
            return None
        case CompleteReview():
            return application.complete_review(actor_id=actor, reference=ref, clock=clock)
        case RecordCardDispatch():
            application.record_card_dispatch(
                actor_id=actor, clock=clock, tracking_number=command.tracking_number
            )
            return None
        case CloseApplication():
            application.close(actor_id=actor, clock=clock)
            return None
        case WithdrawApplication():
            application.withdraw(actor_id=actor, clock=clock, reason=command.reason)
            return None
        case RefuseApplication():
            application.refuse(actor_id=actor, clock=clock, reason=command.reason)
            return None
    raise TypeError(f"unknown command {type(command).__name__}")
