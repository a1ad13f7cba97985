"""Subscribers of the notifications service: each person-facing event becomes queued mail.

One subscriber per contract in ``service_layer.mails.PLANNERS``; every one runs the same handler inside the
shared inbox transaction (``shared.messaging.consumer.subscribe_event``), so a redelivered event adds nothing.

Each subscriber has a consumer group of its own, ``notifications.<topic>``, instead of one group for the whole
service: with eleven subscribers in one group every member's join rebalances all the others, and a start (or a
restart after a crash) took over a minute to settle. One group per topic joins at once. The inbox rows carry the
same name, which is fine: event ids are unique. user-registered keeps the group it always had, ``notifications``:
renaming a group re-reads its topic from the start under an inbox name that has seen nothing, so every retained
event would be mailed again.
"""

from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.config import MailSettings
from notifications.service_layer.deliveries import DeliveryWorker, enqueue
from notifications.service_layer.mails import consumed_events, mails_for
from shared.events import Event, UserRegistered
from shared.messaging.consumer import subscribe_event
from shared.service import ServiceRuntime

CONSUMER = "notifications"


def consumer_name(event_type: type[Event]) -> str:
    """Return the consumer group (and inbox consumer) of one subscription: ``notifications.<topic>``."""
    if event_type is UserRegistered:
        return CONSUMER
    return f"{CONSUMER}.{event_type.topic()}"


def wake_after_commit(session: AsyncSession, worker: DeliveryWorker) -> None:
    """Wake the delivery worker as soon as this transaction commits, so mail leaves without polling delay."""
    sa_event.listen(session.sync_session, "after_commit", lambda _: worker.wake(), once=True)


def register(runtime: ServiceRuntime, mail: MailSettings, worker: DeliveryWorker) -> None:
    """Subscribe one handler per person-facing event."""

    async def queue_mails(session: AsyncSession, event: Event) -> None:
        """Queue every mail the event asks for (at most one per recipient and template)."""
        queued = False
        for planned in mails_for(event):
            queued |= await enqueue(session, source=event, planned=planned, mail=mail)
        if queued:
            wake_after_commit(session, worker)

    for event_type in consumed_events():
        subscribe_event(
            runtime.broker,
            event_type,
            queue_mails,
            consumer=consumer_name(event_type),
            sessions=runtime.sessions,
            settings=runtime.settings.messaging,
        )
