"""Subscribers of the notifications service: each person-facing event becomes queued mail.

One subscription for every contract in ``service_layer.mails.PLANNERS`` (``shared.messaging.consumer.
subscribe_events``): a single member of the ``notifications`` group reads all their topics and runs the same
handler inside the shared inbox transaction, so a redelivered event adds nothing. (One member per topic made every
join rebalance all the others; a start took over a minute to settle — docs/adr/0005.)
"""

from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.config import MailSettings
from notifications.service_layer.deliveries import DeliveryWorker, enqueue
from notifications.service_layer.mails import consumed_events, mails_for
from shared.events import Event
from shared.messaging.consumer import subscribe_events
from shared.service import ServiceRuntime

CONSUMER = "notifications"


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

    subscribe_events(
        runtime.broker,
        dict.fromkeys(consumed_events(), queue_mails),
        consumer=CONSUMER,
        sessions=runtime.sessions,
        settings=runtime.settings.messaging,
    )
