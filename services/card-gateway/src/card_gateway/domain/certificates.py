"""Readable facts about a certificate read from the card (no personal data from subjectAltName)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization


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
