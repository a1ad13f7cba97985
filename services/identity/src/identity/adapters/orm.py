"""Tables of the identity service (SQLAlchemy Core, with the project's naming convention)."""

from sqlalchemy import Column, DateTime, String, Table, func
from sqlalchemy.dialects.postgresql import UUID

from shared.db import new_metadata

metadata = new_metadata()

user_account = Table(
    "user_account",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("category", String(40), nullable=False),
    Column("email", String(320), nullable=False),
    Column("locale", String(5)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
