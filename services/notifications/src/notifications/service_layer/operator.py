"""What operators may do with the delivery log: read it, and re-send a mail as a new delivery."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import email_delivery
from notifications.config import MailSettings
from notifications.service_layer.deliveries import message_id_for
from shared.errors import AppError


class DeliveryNotFound(AppError):
    """No delivery has this id."""

    code = "delivery.not_found"

    def __init__(self, delivery_id: uuid.UUID) -> None:
        super().__init__(
            404,
            self.code,
            f"配信記録 {delivery_id} は見つかりません。IDを確認してください。",
            f"There is no delivery {delivery_id}. Check the id.",
        )


class DeliveryInProgress(AppError):
    """The delivery is still queued or being sent; a re-send now would double it."""

    code = "delivery.in_progress"

    def __init__(self, delivery_id: uuid.UUID) -> None:
        super().__init__(
            409,
            self.code,
            "この配信はまだ送信待ちまたは送信中です。結果が記録されてから再送してください。",
            "This delivery is still queued or being sent. Re-send it once its outcome is recorded.",
            extra={"delivery_id": str(delivery_id)},
        )


class SecretNotResendable(AppError):
    """A delivered mail that held a secret was wiped; the person must ask for a new link instead."""

    code = "delivery.secret_not_resendable"

    def __init__(self, delivery_id: uuid.UUID) -> None:
        super().__init__(
            409,
            self.code,
            "このメールにはパスワード設定用リンクまたは認証IDが含まれていたため、配信後に本文を消去しました。"
            "再送はできません。利用者に新しいリンクを請求するよう案内してください。",
            "This mail held a password link or the authentication ID and its body was erased after delivery, "
            "so it cannot be re-sent. Ask the person to request a new link.",
            extra={"delivery_id": str(delivery_id)},
        )


async def get_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> Any:
    """Return one delivery row or raise DeliveryNotFound."""
    row = (await session.execute(select(email_delivery).where(email_delivery.c.id == delivery_id))).first()
    if row is None:
        raise DeliveryNotFound(delivery_id)
    return row


async def resend(
    session: AsyncSession,
    *,
    delivery_id: uuid.UUID,
    requested_by: uuid.UUID,
    request_key: str | None,
    mail: MailSettings,
) -> tuple[Any, bool]:
    """Queue the same mail to the same address as a new delivery linked to the original.

    The new row's key is ``resend:<original id>:<request key>``: the same request key (the HTTP
    ``Idempotency-Key``) returns the same re-send instead of a second one. Returns (row, created).
    """
    original = await get_delivery(session, delivery_id)
    if original.status in ("pending", "sending"):
        raise DeliveryInProgress(delivery_id)
    if original.sensitive and original.status == "delivered":
        raise SecretNotResendable(delivery_id)
    key = f"resend:{original.id}:{request_key or uuid.uuid4()}"
    t = email_delivery.c
    inserted = (
        await session.execute(
            pg_insert(email_delivery)
            .values(
                id=uuid.uuid4(),
                idempotency_key=key,
                source_event_id=original.source_event_id,
                source_event_type=original.source_event_type,
                correlation_id=original.correlation_id,
                template=original.template,
                recipient=original.recipient,
                recipient_role=original.recipient_role,
                locale=original.locale,
                application_id=original.application_id,
                user_id=original.user_id,
                subject=original.subject,
                body_text=original.body_text,
                body_html=original.body_html,
                sensitive=original.sensitive,
                message_id=message_id_for(key, mail),
                resend_of=original.id,
                requested_by=requested_by,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(t.id)
        )
    ).first()
    row = (await session.execute(select(email_delivery).where(t.idempotency_key == key))).one()
    return row, inserted is not None


async def list_deliveries(
    session: AsyncSession,
    *,
    recipient: str | None = None,
    application_id: uuid.UUID | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Any]:
    """Return deliveries, newest first, filtered by recipient (case-insensitive), application and status."""
    t = email_delivery.c
    query = select(email_delivery).order_by(t.created_at.desc(), t.id).limit(limit).offset(offset)
    if recipient is not None:
        query = query.where(func.lower(t.recipient) == recipient.strip().lower())
    if application_id is not None:
        query = query.where(t.application_id == application_id)
    if status is not None:
        query = query.where(t.status == status)
    return list((await session.execute(query)).all())
