"""Value objects the gateway returns: readers, card status, PIN tries, certificates and signatures."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SIGNATURE_ALGORITHM = "RSASSA-PKCS1-v1_5-SHA256"


class PinKind(StrEnum):
    """Which PIN (and therefore which key and certificate) an operation uses."""

    AUTH = "auth"
    SIGNATURE = "signature"

    @property
    def max_tries(self) -> int:
        """Return how many wrong PINs the card accepts before it locks the PIN."""
        return 3 if self is PinKind.AUTH else 5


@dataclass(frozen=True)
class ReaderInfo:
    """A reader PC/SC knows about and what is in it right now."""

    name: str
    card_present: bool
    in_use: bool = False
    exclusive: bool = False
    atr: bytes | None = None


@dataclass(frozen=True)
class CardStatus:
    """What card is in a reader: ``my_number_card`` is decided from the JPKI token, never from the ATR."""

    reader: str
    my_number_card: bool
    jpki_application: bool
    token: str | None
    atr: bytes


@dataclass(frozen=True)
class PinTries:
    """Tries left for both PINs (0 = blocked, None = the card did not say), read without spending one."""

    reader: str
    auth: int | None
    signature: int | None


@dataclass(frozen=True)
class CertificateRead:
    """A certificate read from the card (DER)."""

    reader: str
    kind: PinKind
    der: bytes = field(repr=False)


@dataclass(frozen=True)
class CardSignature:
    """A signature made by the card and the certificate of the key that made it."""

    reader: str
    kind: PinKind
    signature: bytes = field(repr=False)
    certificate: bytes = field(repr=False)
    algorithm: str = SIGNATURE_ALGORITHM
