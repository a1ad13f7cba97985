"""Accounts with card handles, 認証ID, passwords and roles; card challenges, link and refresh tokens, sign-in
failures, sent password reminders and representations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Extend user_account and create the credential and representation tables."""
    op.add_column("user_account", sa.Column("status", sa.String(20), nullable=False, server_default="pending"))
    op.add_column("user_account", sa.Column("card_handle", sa.String(100)))
    op.add_column("user_account", sa.Column("auth_id", sa.String(10)))
    op.add_column("user_account", sa.Column("password_hash", sa.Text()))
    op.add_column("user_account", sa.Column("password_changed_at", sa.DateTime(timezone=True)))
    op.add_column("user_account", sa.Column("setup_deadline", sa.DateTime(timezone=True)))
    op.add_column(
        "user_account",
        sa.Column("roles", ARRAY(sa.String(40)), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column("user_account", sa.Column("bureau", sa.String(100)))
    op.add_column("user_account", sa.Column("last_signin_at", sa.DateTime(timezone=True)))
    op.create_unique_constraint("uq_user_account_auth_id", "user_account", ["auth_id"])
    op.create_index(
        "ix_user_account_category_card_handle",
        "user_account",
        ["category", "card_handle"],
        unique=True,
        postgresql_where=sa.text("card_handle IS NOT NULL"),
    )
    op.create_index("ix_user_account_email", "user_account", [sa.text("lower(email)")])

    op.create_table(
        "card_challenge",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("attempt_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_card_challenge"),
    )
    op.create_index("ix_card_challenge_expires_at", "card_challenge", ["expires_at"])

    op.create_table(
        "link_token",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("token_hash", name="pk_link_token"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_link_token_user_id_user_account", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_link_token_user_id_purpose", "link_token", ["user_id", "purpose", "issued_at"])

    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("family_id", UUID(as_uuid=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("token_hash", name="pk_refresh_token"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_refresh_token_user_id_user_account", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_refresh_token_family_id", "refresh_token", ["family_id"])
    op.create_index("ix_refresh_token_user_id", "refresh_token", ["user_id"])

    op.create_table(
        "signin_failure",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", UUID(as_uuid=True)),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signin_failure"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_signin_failure_user_id_user_account", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_signin_failure_user_id_at", "signin_failure", ["user_id", "at"])
    op.create_index("ix_signin_failure_client_address_at", "signin_failure", ["client_address", "at"])

    op.create_table(
        "password_reminder",
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "password_changed_at", "days_before", name="pk_password_reminder"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_password_reminder_user_id_user_account",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "representation",
        sa.Column("id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("applicant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("applicant_name", sa.String(100), nullable=False),
        sa.Column("applicant_date_of_birth", sa.Date(), nullable=False),
        sa.Column("nationality", sa.String(3), nullable=False),
        sa.Column("residence_card_number", sa.String(12)),
        sa.Column("relationship", sa.String(20), nullable=False),
        sa.Column("basis", sa.String(30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_representation"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_representation_user_id_user_account", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("user_id", "applicant_id", name="uq_representation_user_id_applicant_id"),
    )


def downgrade() -> None:
    """Drop what upgrade created."""
    op.drop_table("representation")
    op.drop_table("password_reminder")
    op.drop_table("signin_failure")
    op.drop_table("refresh_token")
    op.drop_table("link_token")
    op.drop_table("card_challenge")
    op.drop_index("ix_user_account_email", table_name="user_account")
    op.drop_index("ix_user_account_category_card_handle", table_name="user_account")
    op.drop_constraint("uq_user_account_auth_id", "user_account", type_="unique")
    for column in (
        "last_signin_at",
        "bureau",
        "roles",
        "setup_deadline",
        "password_changed_at",
        "password_hash",
        "auth_id",
        "card_handle",
        "status",
    ):
        op.drop_column("user_account", column)
