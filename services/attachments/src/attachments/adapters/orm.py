"""Tables of the attachments service (SQLAlchemy Core, with the project's naming convention).

``application`` records who an application belongs to, who may file for it and its bureau — only from the
applications service's events (draft created, filers changed, submitted, draft deleted), never from an upload;
``attachment_round`` one round of attachments (round 1 before submission, later rounds opened by
ApplicationReturned) with its 参考様式9 declaration; ``attachment`` one stored file (or tax record) and its verdict;
``tax_info_fetch`` data fetched from Mynaportal, waiting for the applicant to review and register it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import new_metadata

metadata = new_metadata()

application = Table(
    "application",
    metadata,
    Column("application_id", Uuid, primary_key=True),
    Column("applicant_id", Uuid, nullable=False),
    Column("recorded_by", Uuid, nullable=False),
    Column("recipients", JSONB, nullable=False, server_default="[]"),
    Column("submitted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("bureau", Text),
    Column("filers", JSONB, nullable=False, server_default="[]"),
    Column("deleted_at", DateTime(timezone=True)),
    Column("announced_at", DateTime(timezone=True), server_default=func.now()),
)

attachment_round = Table(
    "attachment_round",
    metadata,
    Column("application_id", Uuid, nullable=False),
    Column("round_number", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),
    Column("declaration", String(40)),
    Column("declared_at", DateTime(timezone=True)),
    Column("declared_by", Uuid),
    PrimaryKeyConstraint("application_id", "round_number"),
    ForeignKeyConstraint(["application_id"], ["application.application_id"]),
    CheckConstraint("round_number >= 1", name="round_number_positive"),
)

attachment = Table(
    "attachment",
    metadata,
    Column("attachment_id", Uuid, primary_key=True),
    Column("application_id", Uuid, nullable=False, index=True),
    Column("round_number", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("document_type", String(64)),
    Column("filename", Text, nullable=False),
    Column("content_type", String(100)),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("state", String(20), nullable=False),
    Column("reasons", JSONB, nullable=False, server_default="[]"),
    Column("warnings", JSONB, nullable=False, server_default="[]"),
    Column("facts", JSONB, nullable=False, server_default="{}"),
    Column("uploaded_by", Uuid, nullable=False),
    Column("uploader_email", Text),
    Column("uploader_locale", String(8)),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("checked_at", DateTime(timezone=True)),
    Column("check_ms", Integer),
    ForeignKeyConstraint(
        ["application_id", "round_number"],
        ["attachment_round.application_id", "attachment_round.round_number"],
    ),
    CheckConstraint("state IN ('checking', 'accepted', 'rejected')", name="state_known"),
    CheckConstraint("kind IN ('document', 'photo', 'tax_info')", name="kind_known"),
)

tax_info_fetch = Table(
    "tax_info_fetch",
    metadata,
    Column("fetch_id", Uuid, primary_key=True),
    Column("application_id", Uuid, nullable=False, index=True),
    Column("fetched_by", Uuid, nullable=False),
    Column("person_name", Text, nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("fetched_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attachment_id", Uuid),
)
