"""Alembic environment of the portal (its sessions only)."""

from alembic import context
from web.sessions import metadata

from shared.migrations import run_migrations

run_migrations(context, metadata)
