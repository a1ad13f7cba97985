"""Sign-in failures keyed by the 認証ID typed (known or not), rate-limit windows, and queued reset requests.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add signin_failure.auth_id_key, rate_limit_window and password_reset_request."""
    op.add_column("signin_failure", sa.Column("auth_id_key", sa.String(10)))
    op.create_index("ix_signin_failure_auth_id_key_at", "signin_failure", ["auth_id_key", "at"])
    op.create_table(
        "rate_limit_window",
        sa.Column("bucket", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "subject", "window_start", name="pk_rate_limit_window"),
    )
    op.create_index("ix_rate_limit_window_expires_at", "rate_limit_window", ["expires_at"])
    op.create_table(
        "password_reset_request",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_password_reset_request"),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("password_reset_request")
    op.drop_index("ix_rate_limit_window_expires_at", table_name="rate_limit_window")
    op.drop_table("rate_limit_window")
    op.drop_index("ix_signin_failure_auth_id_key_at", table_name="signin_failure")
    op.drop_column("signin_failure", "auth_id_key")
