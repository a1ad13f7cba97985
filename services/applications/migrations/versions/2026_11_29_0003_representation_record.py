"""The representations recorded at identity (from representation-registered).

Revision ID: 0003_representation_record
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_representation_record"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the representation record table."""
    op.create_table(
        "representation_record",
        sa.Column("representation_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("filer_user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("applicant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("filer_category", sa.Text(), nullable=True),
        sa.Column("relationship", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("applicant_date_of_birth", sa.Date(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("representation_id", name="pk_representation_record"),
    )
    op.create_index(
        "ix_representation_record_filer_user_id_applicant_id",
        "representation_record",
        ["filer_user_id", "applicant_id"],
    )


def downgrade() -> None:
    """Drop the representation record table."""
    op.drop_index("ix_representation_record_filer_user_id_applicant_id", table_name="representation_record")
    op.drop_table("representation_record")
