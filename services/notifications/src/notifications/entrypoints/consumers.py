"""Subscribers of the notifications service: each person-facing event becomes queued mail."""

from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.config import MailSettings
from notifications.service_layer.deliveries import DeliveryWorker, enqueue
from shared.events import UserRegistered
from shared.messaging.consumer import subscribe_event
from shared.service import ServiceRuntime

CONSUMER = "notifications"


def wake_after_commit(session: AsyncSession, worker: DeliveryWorker) -> None:
    """Wake the delivery worker as soon as this transaction commits, so mail leaves without polling delay."""
    sa_event.listen(session.sync_session, "after_commit", lambda _: worker.wake(), once=True)


def register(runtime: ServiceRuntime, mail: MailSettings, worker: DeliveryWorker) -> None:
    """Subscribe every handler of this service."""

    async def on_user_registered(session: AsyncSession, event: UserRegistered) -> None:
        """Tell a new user their registration was received."""
        await enqueue(
            session,
            source=event,
            template="registration_received",
            recipient=event.email,
            locale=event.locale,
            context={},
            mail=mail,
            user_id=event.user_id,
        )
        wake_after_commit(session, worker)

    subscribe_event(
        runtime.broker,
        UserRegistered,
        on_user_registered,
        consumer=CONSUMER,
        sessions=runtime.sessions,
        settings=runtime.settings.messaging,
    )
