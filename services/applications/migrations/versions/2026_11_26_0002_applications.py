"""Applications, their attachment summary, user contacts and the receipt-number sequences.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables of the applications service."""
    op.create_table(
        "application",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filer_user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("applicant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("bureau", sa.Text(), nullable=False),
        sa.Column("procedure_codes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("provisional_receipt_number", sa.Text(), nullable=True),
        sa.Column("receipt_number", sa.Text(), nullable=True),
        sa.Column("over_10mb_declared", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_application"),
        sa.UniqueConstraint("provisional_receipt_number", name="uq_application_provisional_receipt_number"),
        sa.UniqueConstraint("receipt_number", name="uq_application_receipt_number"),
    )
    op.create_index("ix_application_applicant_id", "application", ["applicant_id"])
    op.create_index("ix_application_bureau_state", "application", ["bureau", "state", "submitted_at"])
    op.create_table(
        "application_attachment",
        sa.Column("attachment_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("application_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reported_kind", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("reasons", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("warnings", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("attachment_id", name="pk_application_attachment"),
    )
    op.create_index("ix_application_attachment_application_id", "application_attachment", ["application_id"])
    op.create_table(
        "user_contact",
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_contact"),
    )
    op.create_table(
        "provisional_receipt_sequence",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_provisional_receipt_sequence"),
    )
    op.create_table(
        "receipt_number_sequence",
        sa.Column("bureau", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bureau", "day", name="pk_receipt_number_sequence"),
    )


def downgrade() -> None:
    """Drop the tables of the applications service."""
    op.drop_table("receipt_number_sequence")
    op.drop_table("provisional_receipt_sequence")
    op.drop_table("user_contact")
    op.drop_index("ix_application_attachment_application_id", table_name="application_attachment")
    op.drop_table("application_attachment")
    op.drop_index("ix_application_bureau_state", table_name="application")
    op.drop_index("ix_application_applicant_id", table_name="application")
    op.drop_table("application")
