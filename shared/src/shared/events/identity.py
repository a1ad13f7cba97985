"""Events published by the identity service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.envelope import Event

UserCategory = Literal["foreign_national", "legal_representative", "relative", "officer", "operator"]
Locale = Literal["ja", "en"]


class _IdentityEvent(Event):
    producer: ClassVar[str] = "identity"
    key_field: ClassVar[str] = "user_id"

    user_id: uuid.UUID


class UserRegistered(_IdentityEvent):
    """A person registered with their card under a category; the e-mail still needs its set-up link."""

    category: UserCategory
    email: str
    locale: Locale | None = None


class PasswordSetupRequested(_IdentityEvent):
    """A single-use password set-up link was made (registration, or a re-send)."""

    email: str
    locale: Locale | None = None
    setup_url: str
    expires_at: datetime


class AuthIdIssued(_IdentityEvent):
    """The password was set and the 認証ID issued; the user must be told it."""

    email: str
    locale: Locale | None = None
    auth_id: str


class PasswordExpiring(_IdentityEvent):
    """The password expires soon (reminder 30 and 7 days before, as policy)."""

    email: str
    locale: Locale | None = None
    expires_at: datetime
    days_left: int


class PasswordResetRequested(_IdentityEvent):
    """The user asked to reset a forgotten password; the link goes by e-mail."""

    email: str
    locale: Locale | None = None
    reset_url: str
    expires_at: datetime


class RepresentationRegistered(_IdentityEvent):
    """A legal representative or relative recorded the applicant they act for (the record applications trusts).

    ``basis`` and ``relationship`` use the shared vocabulary (``shared.vocabulary``). Since contract 1.1 the event
    also carries the applicant's date of birth as recorded (declared by the representative with proof) and the
    filer's category, so that applications decides eligibility from the record, not from what a draft says.
    """

    representation_id: uuid.UUID
    applicant_id: uuid.UUID
    basis: Literal["parental_authority", "guardianship", "applicant_under_16", "illness"]
    relationship: str = Field(
        description="spouse | child | parent | guardian (shared.vocabulary.Relationship)"
    )
    applicant_date_of_birth: date | None = Field(
        default=None, description="The applicant's date of birth as recorded at identity (added in 1.1)."
    )
    filer_category: Literal["legal_representative", "relative"] | None = Field(
        default=None, description="The representative's user category (added in 1.1)."
    )


class SessionsRevoked(_IdentityEvent):
    """Sign-ins of an account ended before their access tokens expire; every service refuses those tokens.

    ``session_ids`` are the ``sid`` claims of the ended sign-ins. ``issued_before`` (a password reset) also ends
    every token of the account issued in an earlier second, with or without a ``sid``. The entry matters only
    until ``valid_until`` (no access token of those sign-ins lives longer).
    """

    reason: Literal["signed_out", "password_changed", "password_reset", "refresh_reused"]
    session_ids: list[uuid.UUID] = Field(default_factory=list, max_length=10_000)
    issued_before: datetime | None = None
    valid_until: datetime
