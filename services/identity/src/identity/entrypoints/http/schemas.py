"""Request and response bodies of the identity API (binary values are standard base64)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, SecretStr

from identity.domain.users import (
    Relationship,
    Representation,
    RepresentationBasis,
    UserCategory,
    normalize_residence_card_number,
)
from identity.service_layer.registration import CardResponse


def _b64(value: object) -> object:
    """Decode standard or URL-safe base64 (padding optional) into bytes."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    text += "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.b64decode(text, altchars=b"-_", validate=True)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None


Base64Bytes = Annotated[bytes, BeforeValidator(_b64)]


class _Body(BaseModel):
    """Request bodies refuse unknown fields (nothing can slip in, such as roles)."""

    model_config = ConfigDict(extra="forbid")


class CardChallengeCreate(_Body):
    """Start a registration or card sign-in attempt."""

    purpose: Literal["registration", "sign_in"]


class CardChallengePublic(BaseModel):
    """The challenge the card must sign (through card-gateway ``POST /card/auth-signature``)."""

    attempt_id: str
    challenge_id: str
    challenge: str = Field(description="base64 of the random bytes to sign")
    expires_at: datetime


class CardResponseCreate(_Body):
    """The card's answer: its authentication certificate and signature over the challenge."""

    attempt_id: str = Field(max_length=64)
    challenge_id: str = Field(max_length=64)
    certificate: Base64Bytes = Field(description="DER authentication certificate, base64", max_length=8192)
    signature: Base64Bytes = Field(
        description="RSASSA-PKCS1-v1_5/SHA-256 over the challenge, base64", max_length=1024
    )

    def card(self) -> CardResponse:
        """Return the card response for the use case."""
        return CardResponse(self.attempt_id, self.challenge_id, self.certificate, self.signature)


class RepresentationCreate(_Body):
    """The applicant a legal representative or relative acts for."""

    name: str = Field(max_length=200)
    date_of_birth: date
    nationality: str = Field(max_length=3, description="ISO 3166-1 alpha-3")
    residence_card_number: str | None = Field(None, max_length=20)
    relationship: Relationship
    basis: RepresentationBasis
    without_parental_authority: bool = Field(
        False,
        description="A parent registering as 親族 (relative) declares they do not hold parental authority; "
        "a parent who does registers as 法定代理人.",
    )

    def to_domain(self) -> Representation:
        """Return the domain value (card number normalised)."""
        number = self.residence_card_number
        return Representation(
            name=self.name,
            date_of_birth=self.date_of_birth,
            nationality=self.nationality.strip().upper(),
            residence_card_number=normalize_residence_card_number(number) if number else None,
            relationship=self.relationship,
            basis=self.basis,
            without_parental_authority=self.without_parental_authority,
        )


class RegistrationCreate(CardResponseCreate):
    """Register with the My Number Card under a category, with e-mail, language and (if not for oneself) the applicant."""

    category: UserCategory
    email: EmailStr
    locale: Literal["ja", "en"] | None = Field(None, description="language of the e-mails; none: both")
    agreed_to_terms: bool
    representation: RepresentationCreate | None = None


class RegistrationPublic(BaseModel):
    """The registered account; the set-up link goes by e-mail."""

    user_id: uuid.UUID
    category: str
    email: str
    setup_link_expires_at: datetime
    applicant_id: uuid.UUID | None = None


class SetupLinkPublic(BaseModel):
    """A new set-up link was sent."""

    setup_link_expires_at: datetime


class LinkCheckCreate(_Body):
    """Ask whether an e-mailed link still works."""

    token: SecretStr = Field(max_length=200)
    purpose: Literal["password_setup", "password_reset"]


class LinkCheckPublic(BaseModel):
    """The link works until ``expires_at``."""

    expires_at: datetime


class PasswordSetupCreate(_Body):
    """Set the first password from the set-up link."""

    token: SecretStr = Field(max_length=200)
    password: SecretStr = Field(max_length=1000)


class PasswordSetPublic(BaseModel):
    """The password is set; the 認証ID is also sent by e-mail."""

    user_id: uuid.UUID
    auth_id: str
    password_expires_at: datetime


class PasswordResetRequestCreate(_Body):
    """Ask for a reset link by e-mail."""

    email: EmailStr


class AcceptedPublic(BaseModel):
    """Accepted; what happens next."""

    message_ja: str
    message_en: str


class PasswordChangeCreate(_Body):
    """Change the password while signed in."""

    current_password: SecretStr = Field(max_length=1000)
    new_password: SecretStr = Field(max_length=1000)


class PasswordChangedPublic(BaseModel):
    """The new password's expiry."""

    password_expires_at: datetime


class SessionCreate(_Body):
    """Sign in with 認証ID and password."""

    auth_id: str = Field(max_length=40)
    password: SecretStr = Field(max_length=1000)


class CardSessionCreate(CardResponseCreate):
    """Sign in with the card; ``category`` is needed when the card is registered in several categories."""

    category: Literal["foreign_national", "legal_representative", "relative"] | None = None


class RefreshCreate(_Body):
    """A refresh token."""

    refresh_token: SecretStr = Field(max_length=200)


class SessionPublic(BaseModel):
    """Tokens of a sign-in: a short-lived access token (Bearer) and a refresh token (single use, rotated)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    password_expires_at: datetime | None


class RepresentationPublic(BaseModel):
    """A recorded applicant and the stable applicant id used in ``acts_for``."""

    representation_id: uuid.UUID
    applicant_id: uuid.UUID
    name: str
    date_of_birth: date
    nationality: str
    residence_card_number: str | None
    relationship: str
    basis: str
    acting_now: bool


class AccountPublic(BaseModel):
    """The signed-in account."""

    user_id: uuid.UUID
    category: str
    email: str
    locale: str | None
    auth_id: str | None
    roles: list[str]
    bureau: str | None
    password_expires_at: datetime | None
    representations: list[RepresentationPublic]
