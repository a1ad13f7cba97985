"""Alembic glue shared by every service's ``migrations/env.py``, and a programmatic upgrade for start-up and tests."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

URL_ENV = "RAS_MIGRATION_DATABASE_URL"


def run_migrations(context: Any, target_metadata: MetaData) -> None:
    """Run the migrations of a service against the URL in ``RAS_MIGRATION_DATABASE_URL``."""
    url = context.config.attributes.get("database_url") or os.environ.get(URL_ENV)
    if not url:
        raise RuntimeError(f"set {URL_ENV} to the service's database URL")

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    connection = context.config.attributes.get("connection")
    if connection is not None:
        do_run(connection)
        return

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())


def upgrade(service_dir: Path, database_url: str) -> None:
    """Apply a service's migrations (``service_dir`` holds its alembic.ini) from synchronous code."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "heads")
