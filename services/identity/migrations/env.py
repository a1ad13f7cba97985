"""Alembic environment of the identity service."""

from alembic import context

from identity.adapters.orm import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
