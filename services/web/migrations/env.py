"""Alembic environment of the portal (its sessions only)."""

from alembic import context

from shared.migrations import run_migrations
from web.sessions import metadata

run_migrations(context, metadata)
