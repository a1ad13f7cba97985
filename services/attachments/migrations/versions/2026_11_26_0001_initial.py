"""Initial schema: the outbox and inbox tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from alembic import op

from shared.messaging.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the messaging tables."""
    create_messaging_tables(op.get_bind())


def downgrade() -> None:
    """Drop the messaging tables."""
    drop_messaging_tables(op.get_bind())
