"""Subscribers of the attachments service and of its checker process.

The service (group ``attachments``) follows the applications service: ApplicationDraftCreated records the owner,
filers, bureau and addresses on record and opens round 1 (ApplicationFilersChanged adds filers;
ApplicationDraftDeleted drops the draft's files); ApplicationSubmitted closes round 1; ApplicationReturned opens a later round; review resumed/completed or the end of the
application closes any open round. The checker (group ``attachments-checker``) checks each AttachmentUploaded.
All run inside the shared inbox transaction (``shared.messaging.consumer.subscribe_event``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from attachments.adapters.blobstore import BlobStore
from attachments.service_layer.checking import RunCheck, announce_late_verdicts, check_uploaded
from attachments.service_layer.removal import on_draft_deleted
from attachments.service_layer.rounds import (
    close_open_rounds,
    on_application_returned,
    on_application_submitted,
    on_draft_created,
    on_filers_changed,
)
from shared.events import (
    ApplicationClosed,
    ApplicationDraftCreated,
    ApplicationDraftDeleted,
    ApplicationFilersChanged,
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


def register(runtime: ServiceRuntime, *, blobs: BlobStore) -> None:
    """Subscribe the service to the applications service's events: owners, filers, rounds, deleted drafts."""

    async def draft_deleted(session: AsyncSession, event: ApplicationDraftDeleted) -> None:
        """Drop the draft's attachments and release the blobs nothing else points at."""
        await on_draft_deleted(session, event, blobs=blobs)

    async def draft_created(session: AsyncSession, event: ApplicationDraftCreated) -> None:
        """Record the owner; verdicts given before this announcement now reach the addresses on record."""
        if await on_draft_created(session, event):
            await announce_late_verdicts(session, event.application_id)

    async def filers_changed(session: AsyncSession, event: ApplicationFilersChanged) -> None:
        """Add the filers; as above for verdicts given before the first announcement."""
        if await on_filers_changed(session, event):
            await announce_late_verdicts(session, event.application_id)

    handlers: dict[type[Any], Any] = {
        ApplicationDraftCreated: draft_created,
        ApplicationFilersChanged: filers_changed,
        ApplicationDraftDeleted: draft_deleted,
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
