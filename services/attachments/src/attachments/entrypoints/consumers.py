"""Subscribers of the attachments service and of its checker process.

The service (group ``attachments``) follows the applications service: ApplicationSubmitted closes round 1 and
fixes the applicant; ApplicationReturned opens a later round; review resumed/completed or the end of the
application closes any open round. The checker (group ``attachments-checker``) checks each AttachmentUploaded.
All run inside the shared inbox transaction (``shared.messaging.consumer.subscribe_event``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from attachments.adapters.blobstore import BlobStore
from attachments.service_layer.checking import RunCheck, check_uploaded
from attachments.service_layer.rounds import (
    close_open_rounds,
    on_application_returned,
    on_application_submitted,
)
from shared.events import (
    ApplicationClosed,
    ApplicationRefused,
    ApplicationReviewStarted,
    ApplicationWithdrawn,
    AttachmentUploaded,
    ReviewCompleted,
)
from shared.events.applications import ApplicationReturned, ApplicationSubmitted, DocumentsResubmitted
from shared.messaging.consumer import subscribe_event, subscribe_events
from shared.service import ServiceRuntime

CONSUMER = "attachments"
CHECKER_CONSUMER = "attachments-checker"
ROUND_CLOSERS = (
    DocumentsResubmitted,
    ApplicationReviewStarted,
    ReviewCompleted,
    ApplicationClosed,
    ApplicationWithdrawn,
    ApplicationRefused,
)


def register(runtime: ServiceRuntime) -> None:
    """Subscribe the service to the applications service's events that open and close rounds."""
    handlers: dict[type[Any], Any] = {
        ApplicationSubmitted: on_application_submitted,
        ApplicationReturned: on_application_returned,
        **{event_type: close_open_rounds for event_type in ROUND_CLOSERS},
    }
    subscribe_events(
        runtime.broker,
        handlers,
        consumer=CONSUMER,
        sessions=runtime.sessions,
        settings=runtime.settings.messaging,
    )


def register_checker(runtime: ServiceRuntime, *, blobs: BlobStore, run_check: RunCheck) -> None:
    """Subscribe the checker to AttachmentUploaded."""

    async def on_attachment_uploaded(session: AsyncSession, event: AttachmentUploaded) -> None:
        """Check the file and publish the verdict."""
        await check_uploaded(session, event, blobs=blobs, run_check=run_check)

    subscribe_event(
        runtime.broker,
        AttachmentUploaded,
        on_attachment_uploaded,
        consumer=CHECKER_CONSUMER,
        sessions=runtime.sessions,
        settings=runtime.settings.messaging,
    )
