"""Alembic environment of the attachments service."""

from alembic import context

from attachments.adapters.orm import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
