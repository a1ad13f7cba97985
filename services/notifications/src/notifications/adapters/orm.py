"""Tables of the notifications service: the delivery log that is also the retry queue."""

from sqlalchemy import Column, DateTime, Integer, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import UUID

from shared.db import new_metadata

metadata = new_metadata()

email_delivery = Table(
    "email_delivery",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("idempotency_key", String(400), nullable=False, unique=True),
    Column("source_event_id", UUID(as_uuid=True), nullable=False),
    Column("source_event_type", String(100), nullable=False),
    Column("template", String(100), nullable=False),
    Column("recipient", String(320), nullable=False, index=True),
    Column("locale", String(5)),
    Column("application_id", UUID(as_uuid=True), index=True),
    Column("user_id", UUID(as_uuid=True)),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("message_id", String(300), nullable=False),
    Column("status", String(20), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
)
