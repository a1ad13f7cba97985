"""Tables of the notifications service: the delivery log that is also the retry queue."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from shared.db import new_metadata

metadata = new_metadata()

#: status: pending (due at next_attempt_at) -> sending (claimed until next_attempt_at) -> delivered | failed.
email_delivery = Table(
    "email_delivery",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("idempotency_key", String(400), nullable=False, unique=True),
    Column("source_event_id", UUID(as_uuid=True), nullable=False),
    Column("source_event_type", String(100), nullable=False),
    Column("correlation_id", UUID(as_uuid=True)),
    Column("template", String(100), nullable=False),
    Column("recipient", String(320), nullable=False, index=True),
    Column("recipient_role", String(20)),
    Column("locale", String(5)),
    Column("application_id", UUID(as_uuid=True), index=True),
    Column("user_id", UUID(as_uuid=True)),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("sensitive", Boolean, nullable=False, server_default=text("false")),
    Column("message_id", String(300), nullable=False),
    Column("status", String(20), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("in_doubt_sends", Integer, nullable=False, server_default=text("0")),
    Column("claim_token", UUID(as_uuid=True)),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("permanent_failure", Boolean),
    Column("resend_of", UUID(as_uuid=True), ForeignKey("email_delivery.id"), index=True),
    Column("requested_by", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    Index(
        "ix_email_delivery_due",
        "next_attempt_at",
        postgresql_where=text("status IN ('pending', 'sending')"),
    ),
    Index("ix_email_delivery_recipient_lower", func.lower(text("recipient"))),
    Index("ix_email_delivery_failed", "created_at", postgresql_where=text("status = 'failed'")),
)
