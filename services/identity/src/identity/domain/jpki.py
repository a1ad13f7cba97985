"""Verification of a My Number Card's JPKI (公的個人認証) response to a challenge.

:func:`verify_card_response` checks, in this order, and refuses with one :class:`CardRefusalCode` at the first failure:

1. the challenge: known and bound to this attempt and purpose (``challenge.unknown``), not spent
   (``challenge.replayed``), within its TTL (``challenge.expired``);
2. the certificate parses as X.509 with an RSA-2048+ key (``certificate.malformed``);
3. the signature is RSASSA-PKCS1-v1_5/SHA-256 over exactly that challenge (``signature.invalid``); then the challenge
   is consumed atomically (losing the race is ``challenge.replayed``);
4. the certificate chains to a configured trust anchor: the issuing CA's signature, issuer name = CA subject. A chain to
   an anchor of the other kind (signature CA vs authentication CA) is ``certificate.wrong_kind``, to none
   ``certificate.unknown_ca``;
5. validity of the certificate and of the issuing CA (``certificate.expired`` / ``certificate.not_yet_valid``);
6. key usage: ``auth`` needs digitalSignature without nonRepudiation, ``sign`` needs nonRepudiation; a CA certificate
   is never a card certificate (``certificate.wrong_kind``);
7. revocation through one :class:`RevocationChecker` (CRL or OCSP backend): ``certificate.revoked``, or
   ``certificate.revocation_unknown`` when no conclusive answer is available (fail closed).

Card-holder handles for de-duplication (:func:`card_holder_handle`), always keyed with a server secret (pepper):

- ``auth:v1:<hex>`` = HMAC-SHA256 over issuer DN (DER), the issuer's key identifier and the serial number. Real JPKI
  CAs keep one DN across generations, so the key identifier tells them apart. Changes when the card is re-issued.
- ``sign:v1:<hex>`` = HMAC-SHA256 over the four basic facts (name, date of birth, sex, address, NFC-normalised,
  unit-separated). Changes when the address or name changes (which also revokes the certificate).

Nothing else from the card is kept: never a My Number, a PIN or a private key.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from identity.domain.challenge import ChallengePurpose, ChallengeStore
from identity.domain.errors import IdentityRefusal, Reason

__all__ = [
    "JPKI_FACT_OIDS",
    "BasicFacts",
    "CardKind",
    "CardRefusalCode",
    "CardRefused",
    "RevocationChecker",
    "RevocationResult",
    "RevocationStatus",
    "TrustAnchor",
    "VerifiedCard",
    "card_holder_handle",
    "check_card_certificate",
    "parse_card_certificate",
    "read_basic_facts",
    "verify_card_certificate",
    "verify_card_response",
    "verify_card_signature",
]

CardKind = Literal["auth", "sign"]
MIN_RSA_BITS = 2048

# OIDs of the four basic facts in the signature certificate's subjectAltName otherName entries (J-LIS profile as
# modelled by shared.testing.jpki; configurable through read_basic_facts' ``oids``).
JPKI_FACT_OIDS: Mapping[str, x509.ObjectIdentifier] = {
    "name": x509.ObjectIdentifier("1.2.392.200149.8.5.5.1"),
    "sex": x509.ObjectIdentifier("1.2.392.200149.8.5.5.3"),
    "date_of_birth": x509.ObjectIdentifier("1.2.392.200149.8.5.5.4"),
    "address": x509.ObjectIdentifier("1.2.392.200149.8.5.5.5"),
}


class CardRefusalCode(StrEnum):
    """Stable codes of every reason a card response is refused."""

    CHALLENGE_REPLAYED = "challenge.replayed"
    CHALLENGE_EXPIRED = "challenge.expired"
    CHALLENGE_UNKNOWN = "challenge.unknown"
    SIGNATURE_INVALID = "signature.invalid"
    CERTIFICATE_UNKNOWN_CA = "certificate.unknown_ca"
    CERTIFICATE_WRONG_KIND = "certificate.wrong_kind"
    CERTIFICATE_EXPIRED = "certificate.expired"
    CERTIFICATE_NOT_YET_VALID = "certificate.not_yet_valid"
    CERTIFICATE_REVOKED = "certificate.revoked"
    CERTIFICATE_REVOCATION_UNKNOWN = "certificate.revocation_unknown"
    CERTIFICATE_MALFORMED = "certificate.malformed"


_MESSAGES: Mapping[CardRefusalCode, tuple[str, str]] = {
    CardRefusalCode.CHALLENGE_REPLAYED: (
        "この確認コードは使用済みです。最初からもう一度カードを読み取ってください。",
        "This challenge has already been used. Start again and read the card once more.",
    ),
    CardRefusalCode.CHALLENGE_EXPIRED: (
        "確認コードの有効期限が切れました。もう一度カードを読み取ってください。",
        "The challenge has expired. Read the card again.",
    ),
    CardRefusalCode.CHALLENGE_UNKNOWN: (
        "確認コードが見つからないか、この手続のものではありません。最初からやり直してください。",
        "The challenge is unknown or belongs to another attempt. Start again.",
    ),
    CardRefusalCode.SIGNATURE_INVALID: (
        "カードの署名を確認できませんでした。同じカードで、もう一度読み取ってください。",
        "The card's signature does not match the challenge. Read the same card again.",
    ),
    CardRefusalCode.CERTIFICATE_UNKNOWN_CA: (
        "カードの電子証明書が公的個人認証サービスのものとして確認できません。マイナンバーカードを使用してください。",
        "The card's certificate was not issued by a recognised JPKI authority. Use your My Number Card.",
    ),
    CardRefusalCode.CERTIFICATE_WRONG_KIND: (
        "電子証明書の種類が違います（利用者証明用電子証明書と署名用電子証明書を確認してください）。",
        "This is the wrong kind of certificate (user authentication versus digital signature). Use the one asked for.",
    ),
    CardRefusalCode.CERTIFICATE_EXPIRED: (
        "電子証明書の有効期限が切れています。市区町村の窓口で電子証明書を更新してください。",
        "The card's certificate has expired. Renew it at your municipal office.",
    ),
    CardRefusalCode.CERTIFICATE_NOT_YET_VALID: (
        "電子証明書の有効期間がまだ始まっていません。パソコンの日時を確認するか、後でもう一度お試しください。",
        "The card's certificate is not valid yet. Check the computer's date and time, or try again later.",
    ),
    CardRefusalCode.CERTIFICATE_REVOKED: (
        "電子証明書が失効しています。市区町村の窓口で電子証明書の再発行を受けてください。",
        "The card's certificate has been revoked. Have it re-issued at your municipal office.",
    ),
    CardRefusalCode.CERTIFICATE_REVOCATION_UNKNOWN: (
        "電子証明書の失効状況を現在確認できません。しばらくしてからもう一度お試しください。",
        "We cannot check whether the certificate is revoked right now. Please try again in a little while.",
    ),
    CardRefusalCode.CERTIFICATE_MALFORMED: (
        "カードから読み取った電子証明書の形式が正しくありません。もう一度読み取ってください。",
        "The certificate read from the card is not in a valid format. Read the card again.",
    ),
}


class CardRefused(IdentityRefusal):
    """A card response was refused; ``detail`` is for logs (English, no personal data)."""

    def __init__(self, code: CardRefusalCode, detail: str = "") -> None:
        ja, en = _MESSAGES[code]
        super().__init__(Reason(code=code.value, ja=ja, en=en))
        self.refusal_code = code
        self.detail = detail


@dataclass(frozen=True)
class TrustAnchor:
    """A configured JPKI CA certificate of one kind (``label`` names it, e.g. ``"auth-2023"``)."""

    kind: CardKind
    label: str
    certificate: x509.Certificate = field(repr=False)

    def __post_init__(self) -> None:
        try:
            constraints = self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            raise ValueError(f"trust anchor {self.label} is not a CA certificate") from None
        if not constraints.ca:
            raise ValueError(f"trust anchor {self.label} is not a CA certificate")

    @classmethod
    def load(cls, kind: CardKind, label: str, data: bytes) -> TrustAnchor:
        """Load an anchor from DER or PEM bytes."""
        if data.lstrip().startswith(b"-----BEGIN"):
            return cls(kind, label, x509.load_pem_x509_certificate(data))
        return cls(kind, label, x509.load_der_x509_certificate(data))

    @property
    def der(self) -> bytes:
        """Return the CA certificate as DER."""
        return self.certificate.public_bytes(serialization.Encoding.DER)


class RevocationStatus(StrEnum):
    """The answer of a revocation backend."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class RevocationResult:
    """A revocation answer with its source (``"crl"``, ``"ocsp"``) and a log detail."""

    status: RevocationStatus
    source: str
    detail: str = ""
    revoked_at: datetime | None = None


class RevocationChecker(Protocol):
    """Tells whether a card certificate issued by ``issuer`` is revoked at ``now`` (CRL or OCSP backend)."""

    async def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationResult:
        """Return good, revoked or unknown; never raise for network or data problems."""
        ...


@dataclass(frozen=True)
class BasicFacts:
    """The four basic facts (基本4情報) of a signature certificate; ``date_of_birth`` is ``None`` when partial."""

    name: str
    date_of_birth_raw: str
    date_of_birth: date | None
    sex: str
    address: str


@dataclass(frozen=True)
class VerifiedCard:
    """A card response that passed every check."""

    kind: CardKind
    certificate_der: bytes = field(repr=False)
    serial_number: int
    issuer: str
    anchor_label: str
    not_after: datetime
    facts: BasicFacts | None = field(repr=False)
    revocation: RevocationResult
    issuer_key_id: bytes = field(default=b"", repr=False)
    issuer_der: bytes = field(default=b"", repr=False)


def parse_card_certificate(certificate_der: bytes) -> x509.Certificate:
    """Parse a DER card certificate with an RSA key of at least 2048 bits, or refuse as malformed."""
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
        public_key = certificate.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CardRefused(CardRefusalCode.CERTIFICATE_MALFORMED, f"not a DER certificate: {exc}") from None
    if not isinstance(public_key, rsa.RSAPublicKey) or public_key.key_size < MIN_RSA_BITS:
        raise CardRefused(CardRefusalCode.CERTIFICATE_MALFORMED, "card key is not RSA-2048 or larger")
    return certificate


def verify_card_signature(certificate: x509.Certificate, challenge: bytes, signature: bytes) -> None:
    """Check RSASSA-PKCS1-v1_5/SHA-256 over exactly ``challenge`` with the certificate's key, or refuse."""
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise CardRefused(CardRefusalCode.CERTIFICATE_MALFORMED, "card key is not RSA")
    if len(signature) != (public_key.key_size + 7) // 8:
        raise CardRefused(CardRefusalCode.SIGNATURE_INVALID, "signature length does not match the key")
    try:
        public_key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise CardRefused(CardRefusalCode.SIGNATURE_INVALID, "signature does not verify") from None


def _authority_key_id(certificate: x509.Certificate) -> bytes | None:
    """Return the authorityKeyIdentifier's key identifier, if any."""
    try:
        return certificate.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier
        ).value.key_identifier
    except x509.ExtensionNotFound:
        return None


def _subject_key_id(certificate: x509.Certificate) -> bytes:
    """Return the subjectKeyIdentifier, or the one computed from the public key."""
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest


def _issuing_anchor(
    certificate: x509.Certificate, kind: CardKind, anchors: Sequence[TrustAnchor]
) -> TrustAnchor:
    """Find the anchor whose key signed the certificate; refuse unknown CA or wrong kind."""
    aki = _authority_key_id(certificate)
    candidates = [a for a in anchors if a.certificate.subject == certificate.issuer]
    # Try anchors whose key identifier matches first; still verify every candidate's signature.
    candidates.sort(key=lambda a: aki is None or _subject_key_id(a.certificate) != aki)
    for anchor in candidates:
        try:
            certificate.verify_directly_issued_by(anchor.certificate)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        if anchor.kind != kind:
            raise CardRefused(
                CardRefusalCode.CERTIFICATE_WRONG_KIND,
                f"expected a {kind} certificate, got one issued by {anchor.kind} CA {anchor.label}",
            )
        return anchor
    raise CardRefused(
        CardRefusalCode.CERTIFICATE_UNKNOWN_CA,
        f"no trust anchor signed a certificate of issuer {certificate.issuer}",
    )


def _check_validity(certificate: x509.Certificate, anchor: TrustAnchor, now: datetime) -> None:
    """Refuse when the card certificate or its CA is outside its validity period."""
    for what, cert in (("certificate", certificate), (f"issuing CA {anchor.label}", anchor.certificate)):
        if now < cert.not_valid_before_utc:
            raise CardRefused(
                CardRefusalCode.CERTIFICATE_NOT_YET_VALID,
                f"{what} not valid before {cert.not_valid_before_utc}",
            )
        if now > cert.not_valid_after_utc:
            raise CardRefused(
                CardRefusalCode.CERTIFICATE_EXPIRED, f"{what} expired at {cert.not_valid_after_utc}"
            )


def _check_key_usage(certificate: x509.Certificate, kind: CardKind) -> None:
    """Refuse a certificate whose basicConstraints or keyUsage do not fit the kind."""
    try:
        if certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            raise CardRefused(
                CardRefusalCode.CERTIFICATE_WRONG_KIND, "a CA certificate is not a card certificate"
            )
    except x509.ExtensionNotFound:
        pass
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise CardRefused(CardRefusalCode.CERTIFICATE_WRONG_KIND, "no keyUsage") from None
    if kind == "auth":
        fits = usage.digital_signature and not usage.content_commitment
    else:
        fits = usage.content_commitment
    if not fits:
        raise CardRefused(
            CardRefusalCode.CERTIFICATE_WRONG_KIND, f"keyUsage does not fit a {kind} certificate"
        )


def _decode_der_string(value: bytes) -> str:
    """Decode a DER UTF8String, PrintableString, IA5String or BMPString."""
    if len(value) < 2:
        raise ValueError("too short")
    tag, length, offset = value[0], value[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(value) < 2 + count:
            raise ValueError("bad length")
        length = int.from_bytes(value[2 : 2 + count], "big")
        offset = 2 + count
    body = value[offset:]
    if len(body) != length:
        raise ValueError("length mismatch")
    if tag == 0x0C:
        return body.decode("utf-8")
    if tag in (0x13, 0x16):
        return body.decode("ascii")
    if tag == 0x1E:
        return body.decode("utf-16-be")
    raise ValueError(f"unsupported string tag 0x{tag:02x}")


def _parse_date_of_birth(raw: str) -> date | None:
    """Parse ``EYYYYMMDD`` (era digit + Gregorian date) or ``YYYYMMDD``; ``None`` for partial dates."""
    digits = raw[1:] if len(raw) == 9 else raw
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def read_basic_facts(
    certificate: x509.Certificate, *, oids: Mapping[str, x509.ObjectIdentifier] = JPKI_FACT_OIDS
) -> BasicFacts:
    """Read the four basic facts from a signature certificate's subjectAltName, or refuse as malformed."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise CardRefused(
            CardRefusalCode.CERTIFICATE_MALFORMED, "signature certificate has no subjectAltName"
        ) from None
    values: dict[x509.ObjectIdentifier, str] = {}
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id in oids.values():
            try:
                values[other.type_id] = unicodedata.normalize("NFC", _decode_der_string(other.value))
            except (ValueError, UnicodeDecodeError) as exc:
                raise CardRefused(
                    CardRefusalCode.CERTIFICATE_MALFORMED, f"unreadable basic fact: {exc}"
                ) from None
    missing = [name for name, oid in oids.items() if oid not in values]
    if missing:
        raise CardRefused(CardRefusalCode.CERTIFICATE_MALFORMED, f"basic facts missing: {', '.join(missing)}")
    raw_dob = values[oids["date_of_birth"]]
    return BasicFacts(
        name=values[oids["name"]],
        date_of_birth_raw=raw_dob,
        date_of_birth=_parse_date_of_birth(raw_dob),
        sex=values[oids["sex"]],
        address=values[oids["address"]],
    )


def check_card_certificate(
    certificate: x509.Certificate, *, kind: CardKind, anchors: Sequence[TrustAnchor], now: datetime
) -> TrustAnchor:
    """Check chain, validity and key usage (not revocation); return the issuing anchor or refuse."""
    anchor = _issuing_anchor(certificate, kind, anchors)
    _check_validity(certificate, anchor, now)
    _check_key_usage(certificate, kind)
    return anchor


async def verify_card_response(
    *,
    challenges: ChallengeStore,
    challenge_id: str,
    attempt_id: str,
    purpose: ChallengePurpose,
    certificate_der: bytes,
    signature: bytes,
    kind: CardKind,
    anchors: Sequence[TrustAnchor],
    revocation: RevocationChecker,
    now: datetime,
) -> VerifiedCard:
    """Verify a card's signed challenge and certificate end to end, consuming the challenge; refuse with a reason."""
    challenge = await challenges.get(challenge_id)
    if challenge is None or challenge.attempt_id != attempt_id or challenge.purpose != purpose:
        raise CardRefused(CardRefusalCode.CHALLENGE_UNKNOWN, "no such challenge for this attempt and purpose")
    if challenge.is_consumed():
        raise CardRefused(CardRefusalCode.CHALLENGE_REPLAYED, "challenge already consumed")
    if challenge.is_expired(now):
        raise CardRefused(CardRefusalCode.CHALLENGE_EXPIRED, f"challenge expired at {challenge.expires_at}")
    certificate = parse_card_certificate(certificate_der)
    verify_card_signature(certificate, challenge.value, signature)
    if not await challenges.consume(challenge_id, at=now):
        raise CardRefused(CardRefusalCode.CHALLENGE_REPLAYED, "challenge consumed concurrently")
    return await verify_card_certificate(
        certificate, kind=kind, anchors=anchors, revocation=revocation, now=now
    )


async def verify_card_certificate(
    certificate: x509.Certificate,
    *,
    kind: CardKind,
    anchors: Sequence[TrustAnchor],
    revocation: RevocationChecker,
    now: datetime,
) -> VerifiedCard:
    """Check chain, validity, key usage, basic facts and revocation of a card certificate whose signature is verified."""
    anchor = check_card_certificate(certificate, kind=kind, anchors=anchors, now=now)
    facts = read_basic_facts(certificate) if kind == "sign" else None
    try:
        result = await revocation.check(certificate, anchor.certificate, now=now)
    except Exception as exc:  # a backend bug must not let a card through
        result = RevocationResult(RevocationStatus.UNKNOWN, "error", f"{type(exc).__name__}: {exc}")
    if result.status is RevocationStatus.REVOKED:
        raise CardRefused(
            CardRefusalCode.CERTIFICATE_REVOKED, f"revoked per {result.source}: {result.detail}"
        )
    if result.status is not RevocationStatus.GOOD:
        raise CardRefused(
            CardRefusalCode.CERTIFICATE_REVOCATION_UNKNOWN,
            f"no conclusive answer from {result.source}: {result.detail}",
        )
    return VerifiedCard(
        kind=kind,
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        serial_number=certificate.serial_number,
        issuer=certificate.issuer.rfc4514_string(),
        anchor_label=anchor.label,
        not_after=certificate.not_valid_after_utc,
        facts=facts,
        revocation=result,
        issuer_key_id=_subject_key_id(anchor.certificate),
        issuer_der=certificate.issuer.public_bytes(),
    )


MIN_PEPPER_BYTES = 16


def card_holder_handle(card: VerifiedCard, *, pepper: bytes) -> str:
    """Return the de-duplication handle of a verified card (see the module docstring); ``pepper`` is a server secret."""
    if len(pepper) < MIN_PEPPER_BYTES:
        raise ValueError(f"pepper must be at least {MIN_PEPPER_BYTES} bytes")
    if card.kind == "auth":
        material = b"\x1f".join([card.issuer_der, card.issuer_key_id, str(card.serial_number).encode()])
    else:
        if card.facts is None:
            raise ValueError("a signature card without basic facts")
        facts = card.facts
        material = "\x1f".join([facts.name, facts.date_of_birth_raw, facts.sex, facts.address]).encode(
            "utf-8"
        )
    digest = hmac.new(pepper, card.kind.encode() + b"\x00" + material, hashlib.sha256).hexdigest()
    return f"{card.kind}:v1:{digest}"
