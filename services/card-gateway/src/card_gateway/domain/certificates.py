"""Readable facts about a certificate read from the card (no personal data from subjectAltName)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from card_gateway.domain.errors import CardCommunicationError, UnsupportedKeyError
from card_gateway.domain.models import PinKind

SUPPORTED_RSA_BITS = 2048


@dataclass(frozen=True)
class CertificateDetails:
    """Subject, issuer, serial and validity of a certificate; ``handle`` is issuer + serial."""

    subject: str
    issuer: str
    serial_number: str
    not_before: datetime
    not_after: datetime
    pem: str

    @property
    def handle(self) -> str:
        """Return the issuer + serial handle the server uses to recognise a certificate."""
        return f"{self.issuer}#{self.serial_number}"


def describe_certificate(der: bytes) -> CertificateDetails:
    """Parse a DER certificate into CertificateDetails."""
    certificate = x509.load_der_x509_certificate(der)
    return CertificateDetails(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial_number=format(certificate.serial_number, "X"),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )


def require_supported_key(kind: PinKind, der: bytes, reader: str | None = None) -> None:
    """Refuse a certificate whose key is not RSA-2048 (the card would sign with it, the service could not verify)."""
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError:
        raise CardCommunicationError(f"the {kind.value} certificate read from the card is not DER") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        raise UnsupportedKeyError(kind, f"EC {key.curve.name}", reader)
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnsupportedKeyError(kind, "not RSA", reader)
    if key.key_size != SUPPORTED_RSA_BITS:
        raise UnsupportedKeyError(kind, f"RSA {key.key_size}-bit", reader)
