"""Tables of the identity service (SQLAlchemy Core, with the project's naming convention).

Secrets are never stored in clear: link and refresh tokens as SHA-256 digests, passwords as argon2id hashes, the card
as a peppered card-holder handle. No My Number, PIN or certificate is kept.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

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
    Column("status", String(20), nullable=False, server_default=text("'pending'")),
    Column("card_handle", String(100)),
    Column("auth_id", String(10), unique=True),
    Column("password_hash", Text),
    Column("password_changed_at", DateTime(timezone=True)),
    Column("setup_deadline", DateTime(timezone=True)),
    Column("roles", ARRAY(String(40)), nullable=False, server_default=text("'{}'")),
    Column("bureau", String(100)),
    Column("last_signin_at", DateTime(timezone=True)),
    Index(
        "ix_user_account_category_card_handle",
        "category",
        "card_handle",
        unique=True,
        postgresql_where=text("card_handle IS NOT NULL"),
    ),
    Index("ix_user_account_email", func.lower(text("email"))),
)

card_challenge = Table(
    "card_challenge",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("attempt_id", String(64), nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("consumed_at", DateTime(timezone=True)),
    Index("ix_card_challenge_expires_at", "expires_at"),
)

link_token = Table(
    "link_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("purpose", String(20), nullable=False),
    Column("user_id", UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Index("ix_link_token_user_id_purpose", "user_id", "purpose", "issued_at"),
)

refresh_token = Table(
    "refresh_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", UUID(as_uuid=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_refresh_token_family_id", "family_id"),
    Index("ix_refresh_token_user_id", "user_id"),
)

signin_failure = Table(
    "signin_failure",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="CASCADE")),
    Column("client_address", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    # The 認証ID as typed (normalised), whether or not an account has it: unknown ones lock like known ones.
    Column("auth_id_key", String(10)),
    Index("ix_signin_failure_user_id_at", "user_id", "at"),
    Index("ix_signin_failure_client_address_at", "client_address", "at"),
    Index("ix_signin_failure_auth_id_key_at", "auth_id_key", "at"),
)

# Fixed-window request counters shared by every replica (subject = keyed digest of an address or account).
rate_limit_window = Table(
    "rate_limit_window",
    metadata,
    Column("bucket", String(40), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("hits", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("bucket", "subject", "window_start"),
    Index("ix_rate_limit_window_expires_at", "expires_at"),
)

# Reset requests answered at once and worked off in the background (the same work whether the address is known).
password_reset_request = Table(
    "password_reset_request",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)

password_reminder = Table(
    "password_reminder",
    metadata,
    Column("user_id", UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
    Column("days_before", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("user_id", "password_changed_at", "days_before"),
)

representation = Table(
    "representation",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
    Column("applicant_id", UUID(as_uuid=True), nullable=False),
    Column("applicant_name", String(100), nullable=False),
    Column("applicant_date_of_birth", Date, nullable=False),
    Column("nationality", String(3), nullable=False),
    Column("residence_card_number", String(12)),
    Column("relationship", String(20), nullable=False),
    Column("basis", String(30), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "applicant_id", name="uq_representation_user_id_applicant_id"),
)
