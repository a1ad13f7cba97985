"""Tables of the applications service (SQLAlchemy Core, with the project's naming convention).

``application`` keeps the aggregate as a JSON document plus the columns that queries filter on; ``version`` is
the optimistic-concurrency counter shown as the ETag. ``application_attachment`` is the per-application summary
built from the attachments service's events. The two ``*_sequence`` tables hand out receipt-number sequences per
day under a row lock, inside the transaction that uses them (a rolled-back submission leaves no gap).
"""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from shared.db import new_metadata

metadata = new_metadata()

application = Table(
    "application",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("state", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("filer_user_id", UUID(as_uuid=True), nullable=False),
    Column("applicant_id", UUID(as_uuid=True), nullable=False),
    Column("bureau", Text, nullable=False),
    Column("procedure_codes", ARRAY(Text), nullable=False),
    Column("provisional_receipt_number", Text, nullable=True, unique=True),
    Column("receipt_number", Text, nullable=True, unique=True),
    Column("over_10mb_declared", Boolean, nullable=False, server_default="false"),
    Column("document", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("submitted_at", DateTime(timezone=True), nullable=True),
)
Index("ix_application_applicant_id", application.c.applicant_id)
Index("ix_application_bureau_state", application.c.bureau, application.c.state, application.c.submitted_at)

application_attachment = Table(
    "application_attachment",
    metadata,
    Column("attachment_id", UUID(as_uuid=True), primary_key=True),
    Column("application_id", UUID(as_uuid=True), nullable=False),
    Column("round_number", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("reported_kind", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("filename", Text, nullable=True),
    Column("reasons", JSONB, nullable=False, server_default="[]"),
    Column("warnings", JSONB, nullable=False, server_default="[]"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_application_attachment_application_id", application_attachment.c.application_id)

user_contact = Table(
    "user_contact",
    metadata,
    Column("user_id", UUID(as_uuid=True), primary_key=True),
    Column("email", Text, nullable=False),
    Column("locale", Text, nullable=True),
    Column("category", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

provisional_receipt_sequence = Table(
    "provisional_receipt_sequence",
    metadata,
    Column("day", Date, primary_key=True),
    Column("last_value", Integer, nullable=False),
)

receipt_number_sequence = Table(
    "receipt_number_sequence",
    metadata,
    Column("bureau", Text, nullable=False),
    Column("day", Date, nullable=False),
    Column("last_value", Integer, nullable=False),
    PrimaryKeyConstraint("bureau", "day"),
)
