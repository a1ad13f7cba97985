"""Subscribers of the applications service: the attachment summary, contacts and representations of users.

Attachments arrive only as events (applications never calls the attachments service). Each subscriber runs in the
shared inbox transaction (``shared.messaging.consumer.subscribe_events``, one group member for all topics), so a redelivered event adds nothing.

The shared attachment contracts carry a coarse ``kind`` (``document | photo | tax_info``) and ``document_type``, the
reference-data kind the uploader chose (host-organisation form, 別記第19号様式, 参考様式9 …); when an event has no
``document_type`` the coarse kind is mapped to the obvious reference-data kind.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from applications.adapters.repository import (
    ApplicationRecord,
    AttachmentRecord,
    SqlAlchemyApplicationRepository,
)
from applications.adapters.representations import RecordedRepresentation, record_representation
from applications.domain.values import AttachmentState
from shared.events import attachments as contracts
from shared.events.identity import RepresentationRegistered, UserRegistered
from shared.messaging.consumer import subscribe_events
from shared.service import ServiceRuntime

CONSUMER = "applications"
log = logging.getLogger(__name__)


def tax_info_belongs(record: ApplicationRecord | None, registered_by: uuid.UUID | None) -> bool:
    """Tell whether Mynaportal data registered by ``registered_by`` is the applicant's own, filed for themself."""
    if record is None or registered_by is None:
        return False
    own_filing = (
        record.filer_user_id == record.applicant_id and record.application.case.filer.category == "self"
    )
    return own_filing and registered_by == record.applicant_id


COARSE_KINDS: dict[str, str] = {
    "photo": "face_photo",
    "document": "supporting_documents_pdf",
    "tax_info": "tax_information",
}
"""The reference-data kind of each coarse kind of the shared contract, when the event names no finer one."""


def document_kind(
    event: contracts.AttachmentUploaded | contracts.AttachmentAccepted | contracts.AttachmentRejected,
) -> str:
    """Return the reference-data kind of an attachment event."""
    return event.document_type or COARSE_KINDS.get(event.kind, event.kind)


async def on_attachment_uploaded(session: AsyncSession, event: contracts.AttachmentUploaded) -> None:
    """Record a new attachment as being checked (a verdict already recorded is kept)."""
    await SqlAlchemyApplicationRepository(session).record_attachment(
        AttachmentRecord(
            attachment_id=event.attachment_id,
            application_id=event.application_id,
            round_number=event.round_number,
            kind=document_kind(event),
            reported_kind=event.kind,
            state=AttachmentState.CHECKING,
            filename=event.filename,
        ),
        only_if_new=True,
    )


def _verdict(
    event: contracts.AttachmentAccepted | contracts.AttachmentRejected, state: AttachmentState, **extra: Any
) -> AttachmentRecord:
    """Return the attachment record a verdict event describes."""
    return AttachmentRecord(
        attachment_id=event.attachment_id,
        application_id=event.application_id,
        round_number=event.round_number,
        kind=document_kind(event),
        reported_kind=event.kind,
        state=state,
        filename=event.filename,
        warnings=[w.model_dump() for w in event.warnings],
        **extra,
    )


async def on_attachment_accepted(session: AsyncSession, event: contracts.AttachmentAccepted) -> None:
    """Record that an attachment passed its checks (with any warnings)."""
    await SqlAlchemyApplicationRepository(session).record_attachment(
        _verdict(event, AttachmentState.ACCEPTED)
    )


async def on_attachment_rejected(session: AsyncSession, event: contracts.AttachmentRejected) -> None:
    """Record that an attachment failed its checks, with every reason and how to fix it."""
    await SqlAlchemyApplicationRepository(session).record_attachment(
        _verdict(event, AttachmentState.REJECTED, reasons=[r.model_dump() for r in event.reasons])
    )


async def on_tax_info_registered(session: AsyncSession, event: contracts.TaxInfoRegistered) -> None:
    """Record Mynaportal income and resident-tax data as an accepted electronic attachment.

    Only the 外国人本人 filing for themself may use it, about themself (seed): the data counts for an application
    only when the application on record was filed by its own applicant and that applicant registered the data.
    """
    repo = SqlAlchemyApplicationRepository(session)
    record = await repo.get(event.application_id)
    if not tax_info_belongs(record, event.registered_by):
        log.warning(
            "tax information %s registered by %s is not the applicant's own on application %s: ignored",
            event.attachment_id,
            event.registered_by,
            event.application_id,
        )
        return
    await repo.record_attachment(
        AttachmentRecord(
            attachment_id=event.attachment_id,
            application_id=event.application_id,
            round_number=event.round_number,
            kind="tax_information",
            reported_kind="tax_info",
            state=AttachmentState.ACCEPTED,
            filename=f"tax-info-{event.fiscal_year}",
        )
    )


async def on_attachment_removed(session: AsyncSession, event: contracts.AttachmentRemoved) -> None:
    """Forget a removed or replaced attachment, so the view and the submission check agree with attachments."""
    await SqlAlchemyApplicationRepository(session).remove_attachment(
        attachment_id=event.attachment_id,
        application_id=event.application_id,
        round_number=event.round_number,
        kind=event.document_type or COARSE_KINDS.get(event.kind, event.kind),
    )


async def on_user_registered(session: AsyncSession, event: UserRegistered) -> None:
    """Keep the user's address and locale: receipts go to the applicant and the filer."""
    await SqlAlchemyApplicationRepository(session).record_contact(
        user_id=event.user_id, email=event.email, locale=event.locale, category=event.category
    )


async def on_representation_registered(session: AsyncSession, event: RepresentationRegistered) -> None:
    """Keep the representation as identity recorded it: eligibility of representatives reads this record."""
    await record_representation(
        session,
        RecordedRepresentation(
            representation_id=event.representation_id,
            filer_user_id=event.user_id,
            applicant_id=event.applicant_id,
            filer_category=event.filer_category,
            relationship=event.relationship,
            basis=event.basis,
            applicant_date_of_birth=event.applicant_date_of_birth,
            registered_at=event.occurred_at,
        ),
    )


def register(runtime: ServiceRuntime) -> None:
    """Subscribe every handler as the ``applications`` consumer group."""

    handlers: dict[type[Any], Any] = {
        contracts.AttachmentUploaded: on_attachment_uploaded,
        contracts.AttachmentAccepted: on_attachment_accepted,
        contracts.AttachmentRejected: on_attachment_rejected,
        contracts.TaxInfoRegistered: on_tax_info_registered,
        contracts.AttachmentRemoved: on_attachment_removed,
        UserRegistered: on_user_registered,
        RepresentationRegistered: on_representation_registered,
    }
    subscribe_events(
        runtime.broker,
        handlers,
        consumer=CONSUMER,
        sessions=runtime.sessions,
        settings=runtime.settings.messaging,
    )
