"""Request and response bodies of the local API (binary values are standard base64)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from card_gateway.domain.certificates import describe_certificate
from card_gateway.domain.errors import InvalidChallengeError
from card_gateway.domain.models import (
    CardSignature,
    CardStatus,
    CertificateRead,
    PinKind,
    PinTries,
    ReaderInfo,
)


def b64(data: bytes) -> str:
    """Encode bytes as standard base64."""
    return base64.b64encode(data).decode("ascii")


def decode_challenge(value: str) -> bytes:
    """Decode a base64 (standard or URL-safe, padding optional) challenge."""
    text = value.strip()
    text += "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.b64decode(text, altchars=b"-_", validate=True)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidChallengeError("it is not base64") from None


class ReaderPublic(BaseModel):
    """A reader and its state."""

    name: str
    card_present: bool
    in_use: bool
    exclusive: bool
    atr: str | None = Field(None, description="hex")

    @classmethod
    def of(cls, reader: ReaderInfo) -> ReaderPublic:
        """Build from the domain value."""
        return cls(
            name=reader.name,
            card_present=reader.card_present,
            in_use=reader.in_use,
            exclusive=reader.exclusive,
            atr=reader.atr.hex().upper() if reader.atr else None,
        )


class ReadersPublic(BaseModel):
    """Every reader present now."""

    readers: list[ReaderPublic]


class CardStatusPublic(BaseModel):
    """The card in a reader; ``my_number_card`` comes from the JPKI token, not the ATR."""

    reader: str
    my_number_card: bool
    jpki_application: bool
    token: str | None
    atr: str

    @classmethod
    def of(cls, status: CardStatus) -> CardStatusPublic:
        """Build from the domain value."""
        return cls(
            reader=status.reader,
            my_number_card=status.my_number_card,
            jpki_application=status.jpki_application,
            token=status.token,
            atr=status.atr.hex().upper(),
        )


class PinTriesPart(BaseModel):
    """Tries left of one PIN; ``tries_left`` and ``blocked`` are null when the card does not report the count."""

    tries_left: int | None
    max_tries: int
    blocked: bool | None

    @classmethod
    def of(cls, kind: PinKind, tries: int | None) -> PinTriesPart:
        """Build from the tries the card reported (None: not reported)."""
        return cls(tries_left=tries, max_tries=kind.max_tries, blocked=None if tries is None else tries == 0)


class PinTriesPublic(BaseModel):
    """Tries left of both PINs, read without spending one."""

    reader: str
    auth: PinTriesPart
    signature: PinTriesPart

    @classmethod
    def of(cls, tries: PinTries) -> PinTriesPublic:
        """Build from the domain value."""
        return cls(
            reader=tries.reader,
            auth=PinTriesPart.of(PinKind.AUTH, tries.auth),
            signature=PinTriesPart.of(PinKind.SIGNATURE, tries.signature),
        )


class CertificatePublic(BaseModel):
    """A certificate from the card: DER as base64 plus readable facts."""

    reader: str
    kind: PinKind
    certificate: str = Field(description="DER, base64")
    pem: str
    subject: str
    issuer: str
    serial_number: str = Field(description="hex")
    not_before: datetime
    not_after: datetime

    @classmethod
    def of(cls, read: CertificateRead) -> CertificatePublic:
        """Build from the domain value."""
        details = describe_certificate(read.der)
        return cls(
            reader=read.reader,
            kind=read.kind,
            certificate=b64(read.der),
            pem=details.pem,
            subject=details.subject,
            issuer=details.issuer,
            serial_number=details.serial_number,
            not_before=details.not_before,
            not_after=details.not_after,
        )


class SignaturePublic(BaseModel):
    """A card signature over the challenge and the certificate to verify it with."""

    reader: str
    kind: PinKind
    algorithm: str
    signature: str = Field(description="base64")
    certificate: str = Field(description="DER, base64")

    @classmethod
    def of(cls, result: CardSignature) -> SignaturePublic:
        """Build from the domain value."""
        return cls(
            reader=result.reader,
            kind=result.kind,
            algorithm=result.algorithm,
            signature=b64(result.signature),
            certificate=b64(result.certificate),
        )


class PinCreate(BaseModel):
    """A PIN for one operation; it is sent to the card at most once and never logged."""

    model_config = ConfigDict(extra="forbid")

    reader: str | None = Field(
        None, max_length=200, description="default: the first reader holding a My Number Card"
    )
    pin: SecretStr = Field(max_length=64)
    confirm_last_try: bool = Field(False, description="must be true when only one try is left")


class SignatureCreate(PinCreate):
    """Sign ``DigestInfo(SHA-256(challenge))`` with the card."""

    challenge: str = Field(max_length=4096, description="the server's challenge, base64")
