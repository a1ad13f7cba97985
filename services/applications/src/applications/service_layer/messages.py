"""Domain events of the Application aggregate turned into the integration events on the bus (shared.events)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from applications.adapters.repository import ApplicationRecord
from applications.domain import events as domain
from applications.domain.form9 import Form9Text, required_form9
from shared.events import applications as wire
from shared.events.envelope import Event, Recipient


def _uuid(actor_id: str) -> uuid.UUID:
    return uuid.UUID(actor_id)


def form9_wire(text: Form9Text | None) -> wire.Form9Declaration | None:
    """Return the 参考様式9 checkbox for the wire (None stays None)."""
    if text is None:
        return None
    return wire.Form9Declaration(tick=text.tick.value, text_ja=text.ja, text_en=text.en)


def integration_event(
    record: ApplicationRecord,
    event: domain.DomainEvent,
    *,
    recipients: Sequence[Recipient],
    status_code: str | None,
    bureau: wire.BureauContact | None = None,
) -> Event | None:
    """Return the integration event of one domain event (None for events that stay inside the service)."""
    app = record.application
    common = {
        "application_id": record.id,
        "occurred_at": event.occurred_at,
        "recipients": list(recipients),
        "bureau_contact": bureau,
    }
    quiet = {**common, "recipients": []}
    match event:
        case domain.DraftCreated():
            return wire.ApplicationDraftCreated(
                **common,
                applicant_id=record.applicant_id,
                filer_user_id=record.filer_user_id,
                filers=[uuid.UUID(f) for f in app.filer_set()],
                bureau=record.bureau,
                procedures=[p.code for p in event.procedures],
            )
        case domain.FilersChanged():
            return wire.ApplicationFilersChanged(
                **common,
                applicant_id=record.applicant_id,
                filers=[uuid.UUID(f) for f in event.filers],
                bureau=record.bureau,
            )
        case domain.DraftDeleted():
            return wire.ApplicationDraftDeleted(
                **quiet, applicant_id=record.applicant_id, deleted_by=_uuid(event.actor_id)
            )
        case domain.ApplicationSubmitted():
            return wire.ApplicationSubmitted(
                **common,
                provisional_receipt_number=event.provisional_receipt_number,
                procedures=[p.code for p in event.procedures],
                status_of_residence=status_code or "",
                filer_user_id=record.filer_user_id,
                applicant_id=record.applicant_id,
                bureau=record.bureau,
                over_10mb_declared=event.over_10mb_declared,
                declaration_form9=form9_wire(required_form9(1, over_10mb_declared=event.over_10mb_declared)),
            )
        case domain.ReceiptNumberAssigned():
            return wire.ReceiptNumberAssigned(
                **common,
                provisional_receipt_number=app.provisional_receipt_number or "",
                receipt_number=event.receipt_number,
            )
        case domain.ReviewStarted():
            return wire.ApplicationReviewStarted(**quiet, officer_id=_uuid(event.actor_id))
        case domain.ApplicationReturned():
            return wire.ApplicationReturned(
                **common,
                officer_id=_uuid(event.actor_id),
                requested_documents=[d.description for d in event.requested_documents],
                message=event.note or "",
                round_number=event.round_number,
                receipt_number=app.receipt_number,
                deadline=event.deadline,
                declaration_form9=form9_wire(event.form9),
            )
        case domain.DocumentsResubmitted():
            return wire.DocumentsResubmitted(
                **common,
                resubmitted_by=_uuid(event.actor_id),
                round_number=event.round_number,
                receipt_number=app.receipt_number,
                channel=event.channel,
            )
        case domain.ReviewCompleted():
            return wire.ReviewCompleted(
                **common,
                officer_id=_uuid(event.actor_id),
                fee_yen=event.fee_total,
                items_to_send=[i.code for i in event.items_to_send],
                receipt_number=app.receipt_number,
                fee_lines=[
                    wire.FeeLineText(
                        procedure=x.procedure,
                        variant=x.variant,
                        amount_yen=x.amount,
                        name_ja=x.name.ja,
                        name_en=x.name.en,
                    )
                    for x in event.fee_lines
                ],
                send_items=[
                    wire.SendItemText(code=i.code, name_ja=i.name.ja, name_en=i.name.en)
                    for i in event.items_to_send
                ],
            )
        case domain.CardDispatched():
            return wire.CardDispatched(
                **common,
                officer_id=_uuid(event.actor_id),
                receipt_number=app.receipt_number,
                dispatched_at=event.occurred_at,
                tracking_number=event.tracking_number,
            )
        case domain.ApplicationClosed():
            return wire.ApplicationClosed(**quiet)
        case domain.ApplicationWithdrawn():
            return wire.ApplicationWithdrawn(
                **common,
                withdrawn_by=_uuid(event.actor_id),
                reason=event.reason,
                receipt_number=app.receipt_number,
                provisional_receipt_number=app.provisional_receipt_number,
            )
        case domain.ApplicationRefused():
            return wire.ApplicationRefused(
                **common,
                officer_id=_uuid(event.actor_id),
                reason=event.reason or "",
                receipt_number=app.receipt_number,
                provisional_receipt_number=app.provisional_receipt_number,
            )
    return None
