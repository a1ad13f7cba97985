"""Alembic environment of the notifications service."""

from alembic import context

from notifications.adapters.orm import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
