"""Initial schema: the outbox and inbox tables and the e-mail delivery log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from shared.messaging.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the messaging tables and email_delivery."""
    create_messaging_tables(op.get_bind())
    op.create_table(
        "email_delivery",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("idempotency_key", sa.String(400), nullable=False, unique=True),
        sa.Column("source_event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("source_event_type", sa.String(100), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False, index=True),
        sa.Column("locale", sa.String(5)),
        sa.Column("application_id", UUID(as_uuid=True), index=True),
        sa.Column("user_id", UUID(as_uuid=True)),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_email_delivery_due", "email_delivery", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )


def downgrade() -> None:
    """Drop everything."""
    op.drop_table("email_delivery")
    drop_messaging_tables(op.get_bind())
