"""Ownership from the applications service: each application's bureau, filers and deletion.

Revision ID: 0003_ownership
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_ownership"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the bureau, the filer set, the deletion and announcement times of an application."""
    op.add_column("application", sa.Column("bureau", sa.Text(), nullable=True))
    op.add_column(
        "application", sa.Column("filers", postgresql.JSONB(), server_default="[]", nullable=False)
    )
    op.add_column("application", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    # When applications' own event arrived (null: recorded from a synchronous read, addresses not known yet).
    op.add_column(
        "application",
        sa.Column("announced_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=True),
    )
    op.create_index("ix_attachment_sha256", "attachment", ["sha256"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_attachment_sha256", table_name="attachment")
    op.drop_column("application", "announced_at")
    op.drop_column("application", "deleted_at")
    op.drop_column("application", "filers")
    op.drop_column("application", "bureau")
