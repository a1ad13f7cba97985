"""Event contracts on the wire: one Pydantic model per event, its topic and key.

``ALL_EVENTS`` is the single list from which topics, JSON Schemas and the AsyncAPI document are generated.
"""

from __future__ import annotations

from shared.events.applications import (
    ApplicationClosed,
    ApplicationRefused,
    ApplicationReturned,
    ApplicationReviewStarted,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CardDispatched,
    DocumentsResubmitted,
    ReceiptNumberAssigned,
    ReviewCompleted,
)
from shared.events.attachments import (
    AttachmentAccepted,
    AttachmentRejected,
    AttachmentUploaded,
    TaxInfoRegistered,
)
from shared.events.envelope import Event, Finding, Recipient
from shared.events.identity import (
    AuthIdIssued,
    PasswordExpiring,
    PasswordResetRequested,
    PasswordSetupRequested,
    RepresentationRegistered,
    SessionsRevoked,
    UserRegistered,
)
from shared.events.notifications import EmailDelivered, EmailFailed

ALL_EVENTS: tuple[type[Event], ...] = (
    UserRegistered,
    PasswordSetupRequested,
    AuthIdIssued,
    PasswordExpiring,
    PasswordResetRequested,
    RepresentationRegistered,
    SessionsRevoked,
    ApplicationSubmitted,
    ReceiptNumberAssigned,
    ApplicationReviewStarted,
    ApplicationReturned,
    DocumentsResubmitted,
    ReviewCompleted,
    CardDispatched,
    ApplicationClosed,
    ApplicationWithdrawn,
    ApplicationRefused,
    AttachmentUploaded,
    AttachmentAccepted,
    AttachmentRejected,
    TaxInfoRegistered,
    EmailDelivered,
    EmailFailed,
)

EVENTS_BY_TYPE: dict[str, type[Event]] = {e.__name__: e for e in ALL_EVENTS}


def all_topics() -> list[str]:
    """Return every topic and its dead-letter topic, in a stable order."""
    topics: list[str] = []
    for event in ALL_EVENTS:
        topics += [event.topic(), event.dlq_topic()]
    return topics


__all__ = [
    "ALL_EVENTS",
    "EVENTS_BY_TYPE",
    "ApplicationClosed",
    "ApplicationRefused",
    "ApplicationReturned",
    "ApplicationReviewStarted",
    "ApplicationSubmitted",
    "ApplicationWithdrawn",
    "AttachmentAccepted",
    "AttachmentRejected",
    "AttachmentUploaded",
    "AuthIdIssued",
    "CardDispatched",
    "DocumentsResubmitted",
    "EmailDelivered",
    "EmailFailed",
    "Event",
    "Finding",
    "PasswordExpiring",
    "PasswordResetRequested",
    "PasswordSetupRequested",
    "ReceiptNumberAssigned",
    "Recipient",
    "RepresentationRegistered",
    "ReviewCompleted",
    "SessionsRevoked",
    "TaxInfoRegistered",
    "UserRegistered",
    "all_topics",
]
