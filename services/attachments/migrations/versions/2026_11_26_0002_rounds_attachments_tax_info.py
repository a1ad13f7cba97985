"""Applications, attachment rounds, attachments with their verdicts, and Mynaportal tax-data fetches.

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
    """Create the tables of issue 6."""
    op.create_table(
        "application",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recipients", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name="pk_application"),
    )
    op.create_table(
        "attachment_round",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declaration", sa.String(40), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declared_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("round_number >= 1", name="ck_attachment_round_round_number_positive"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.application_id"],
            name="fk_attachment_round_application_id_application",
        ),
        sa.PrimaryKeyConstraint("application_id", "round_number", name="pk_attachment_round"),
    )
    op.create_table(
        "attachment",
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("document_type", sa.String(64), nullable=True),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reasons", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("warnings", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("facts", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("uploader_email", sa.Text(), nullable=True),
        sa.Column("uploader_locale", sa.String(8), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_ms", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('checking', 'accepted', 'rejected')", name="ck_attachment_state_known"),
        sa.CheckConstraint("kind IN ('document', 'photo', 'tax_info')", name="ck_attachment_kind_known"),
        sa.ForeignKeyConstraint(
            ["application_id", "round_number"],
            ["attachment_round.application_id", "attachment_round.round_number"],
            name="fk_attachment_application_id_attachment_round",
        ),
        sa.PrimaryKeyConstraint("attachment_id", name="pk_attachment"),
    )
    op.create_index("ix_attachment_application_id", "attachment", ["application_id"])
    op.create_table(
        "tax_info_fetch",
        sa.Column("fetch_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("fetched_by", sa.Uuid(), nullable=False),
        sa.Column("person_name", sa.Text(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attachment_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("fetch_id", name="pk_tax_info_fetch"),
    )
    op.create_index("ix_tax_info_fetch_application_id", "tax_info_fetch", ["application_id"])


def downgrade() -> None:
    """Drop the tables of issue 6."""
    op.drop_index("ix_tax_info_fetch_application_id", table_name="tax_info_fetch")
    op.drop_table("tax_info_fetch")
    op.drop_index("ix_attachment_application_id", table_name="attachment")
    op.drop_table("attachment")
    op.drop_table("attachment_round")
    op.drop_table("application")
