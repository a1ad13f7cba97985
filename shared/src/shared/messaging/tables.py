"""The outbox and inbox tables that every service database has (created by each service's first migration)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.engine import Connection

from shared.db import new_metadata

messaging_metadata = new_metadata()

outbox_message = Table(
    "outbox_message",
    messaging_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Index("ix_outbox_message_unsent", "id", postgresql_where=text("sent_at IS NULL")),
)

inbox_message = Table(
    "inbox_message",
    messaging_metadata,
    Column("consumer", String(100), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("consumer", "event_id"),
)


def create_messaging_tables(connection: Connection) -> None:
    """Create the outbox and inbox tables (for a service's first Alembic migration)."""
    messaging_metadata.create_all(connection)


def drop_messaging_tables(connection: Connection) -> None:
    """Drop the outbox and inbox tables (downgrade of that migration)."""
    messaging_metadata.drop_all(connection)
