"""Delivery claims with a lease, in-doubt sends, operator re-sends and sensitive bodies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the claim, re-send and audit columns; the due index covers claimed rows whose lease ran out."""
    op.add_column("email_delivery", sa.Column("correlation_id", UUID(as_uuid=True)))
    op.add_column("email_delivery", sa.Column("recipient_role", sa.String(20)))
    op.add_column(
        "email_delivery", sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.text("false"))
    )
    op.add_column(
        "email_delivery",
        sa.Column("in_doubt_sends", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.add_column("email_delivery", sa.Column("claim_token", UUID(as_uuid=True)))
    op.add_column("email_delivery", sa.Column("last_attempt_at", sa.DateTime(timezone=True)))
    op.add_column("email_delivery", sa.Column("permanent_failure", sa.Boolean))
    op.add_column(
        "email_delivery",
        sa.Column(
            "resend_of",
            UUID(as_uuid=True),
            sa.ForeignKey("email_delivery.id", name="fk_email_delivery_resend_of_email_delivery"),
        ),
    )
    op.add_column("email_delivery", sa.Column("requested_by", UUID(as_uuid=True)))
    op.create_index("ix_email_delivery_resend_of", "email_delivery", ["resend_of"])
    op.create_index("ix_email_delivery_recipient_lower", "email_delivery", [sa.text("lower(recipient)")])
    op.drop_index("ix_email_delivery_due", table_name="email_delivery")
    op.create_index(
        "ix_email_delivery_due",
        "email_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index(
        "ix_email_delivery_failed",
        "email_delivery",
        ["created_at"],
        postgresql_where=sa.text("status = 'failed'"),
    )


def downgrade() -> None:
    """Back to the first schema."""
    op.drop_index("ix_email_delivery_failed", table_name="email_delivery")
    op.drop_index("ix_email_delivery_due", table_name="email_delivery")
    op.create_index(
        "ix_email_delivery_due",
        "email_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("ix_email_delivery_recipient_lower", table_name="email_delivery")
    op.drop_index("ix_email_delivery_resend_of", table_name="email_delivery")
    for column in (
        "requested_by",
        "resend_of",
        "permanent_failure",
        "last_attempt_at",
        "claim_token",
        "in_doubt_sends",
        "sensitive",
        "recipient_role",
        "correlation_id",
    ):
        op.drop_column("email_delivery", column)
