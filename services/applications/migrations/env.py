"""Alembic environment of the applications service."""

from alembic import context

from applications.adapters.orm import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
