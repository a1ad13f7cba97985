"""The project's one test PKI for JPKI (公的個人認証): CAs, My Number Card certificates, CRLs and card signatures.

Who uses it:

- ``card-gateway``'s virtual smart card puts :class:`TestCard` certificates into EF ``000A``/``000B`` (auth) and
  ``0001``/``0002`` (signature) and answers COMPUTE SIGNATURE with :func:`sign_digest_info`;
- ``identity``'s tests verify those signatures and certificates, and feed :meth:`TestPki.crl` to the CRL backend and
  the CAs to the OCSP responder simulator.

Everything is generated in memory with ``cryptography`` and nothing is persisted. Validity periods are relative to the
``now`` passed to :meth:`TestPki.create`, so tests are deterministic with a fixed clock.

Shapes copied from real JPKI (see ``docs/card.md``):

- two CA kinds with the real issuer DNs (authentication: ``OU=JPKI for user authentication``; signature:
  ``OU=JPKI for digital signature``) and, as in real JPKI, the *same* DN in every generation, told apart by key
  (authority/subject key identifiers);
- two generations: ``"2015"`` (expired: ``now - 10y`` to ``now - 30d``) and ``"2023"`` (current: ``now - 2y`` to
  ``now + 8y``);
- RSA-2048 card keys; the authentication certificate's subject is ``C=JP, CN=<opaque id>`` only, keyUsage
  digitalSignature, extendedKeyUsage clientAuth; the signature certificate carries the four basic facts as
  subjectAltName ``otherName`` entries, keyUsage nonRepudiation + digitalSignature.

Test values (modelled on the J-LIS certificate profile, not guaranteed to match it; the verifier keeps them
configurable):

=================================  ========================  ============================================
OID                                 fact                      encoding of the otherName value
=================================  ========================  ============================================
``1.2.392.200149.8.5.5.1``          name (氏名)               UTF8String
``1.2.392.200149.8.5.5.3``          sex (性別)                UTF8String, ``"1"`` male, ``"2"`` female, ``"3"`` other
``1.2.392.200149.8.5.5.4``          date of birth (生年月日)  UTF8String ``EYYYYMMDD``: era digit (1 明治 … 5 令和), Gregorian date
``1.2.392.200149.8.5.5.5``          address (住所)            UTF8String
=================================  ========================  ============================================

Certificate policies (test values): ``1.2.392.200149.8.5.1.3.30`` (authentication), ``1.2.392.200149.8.5.1.1.10``
(signature).

A card signs exactly like the real one: the host sends ``DigestInfo(SHA-256(challenge))``, the card adds PKCS#1 v1.5
type-1 padding and applies the private key, i.e. RSASSA-PKCS1-v1_5 with SHA-256 over the challenge
(:func:`sign_challenge` and :func:`sign_digest_info` give the same bytes).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "AUTH_CA_NAME",
    "AUTH_POLICY_OID",
    "GENERATIONS",
    "OID_ADDRESS",
    "OID_DATE_OF_BIRTH",
    "OID_NAME",
    "OID_SEX",
    "SHA256_DIGEST_INFO_PREFIX",
    "SIGN_CA_NAME",
    "SIGN_POLICY_OID",
    "CardHolder",
    "Generation",
    "Kind",
    "OcspResponderIdentity",
    "TestCa",
    "TestCard",
    "TestPki",
    "digest_info",
    "encode_date_of_birth",
    "generate_rsa_key",
    "sign_challenge",
    "sign_digest_info",
]

Kind = Literal["auth", "sign"]
Generation = Literal["2015", "2023"]
GENERATIONS: tuple[Generation, ...] = ("2015", "2023")

OID_NAME = x509.ObjectIdentifier("1.2.392.200149.8.5.5.1")
OID_SEX = x509.ObjectIdentifier("1.2.392.200149.8.5.5.3")
OID_DATE_OF_BIRTH = x509.ObjectIdentifier("1.2.392.200149.8.5.5.4")
OID_ADDRESS = x509.ObjectIdentifier("1.2.392.200149.8.5.5.5")
AUTH_POLICY_OID = x509.ObjectIdentifier("1.2.392.200149.8.5.1.3.30")
SIGN_POLICY_OID = x509.ObjectIdentifier("1.2.392.200149.8.5.1.1.10")

SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")

_ORG_UNIT = "Japan Agency for Local Authority Information Systems"
AUTH_CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for user authentication"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _ORG_UNIT),
    ]
)
SIGN_CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "JPKI for digital signature"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _ORG_UNIT),
    ]
)
_CA_NAMES: Mapping[Kind, x509.Name] = {"auth": AUTH_CA_NAME, "sign": SIGN_CA_NAME}

# Generation -> (not_before, not_after) offsets from `now`.
_CA_WINDOWS: Mapping[Generation, tuple[timedelta, timedelta]] = {
    "2015": (timedelta(days=-3650), timedelta(days=-30)),
    "2023": (timedelta(days=-730), timedelta(days=2920)),
}
_ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "5"),
    (date(1989, 1, 8), "4"),
    (date(1926, 12, 25), "3"),
    (date(1912, 7, 30), "2"),
    (date(1868, 1, 1), "1"),
)


def generate_rsa_key() -> rsa.RSAPrivateKey:
    """Generate an RSA-2048 key with public exponent 65537, like a My Number Card key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def digest_info(challenge: bytes) -> bytes:
    """Return the 51-byte DER ``DigestInfo(SHA-256(challenge))`` that card-gateway sends to the card."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(challenge).digest()


def sign_challenge(key: rsa.RSAPrivateKey, challenge: bytes) -> bytes:
    """Sign a challenge exactly as the card does: RSASSA-PKCS1-v1_5 over SHA-256 DigestInfo."""
    return key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())


def sign_digest_info(key: rsa.RSAPrivateKey, digest_info_der: bytes) -> bytes:
    """Answer COMPUTE SIGNATURE: add PKCS#1 v1.5 type-1 padding to the given DigestInfo and apply the private key."""
    numbers = key.private_numbers()
    modulus = numbers.public_numbers.n
    size = (modulus.bit_length() + 7) // 8
    if len(digest_info_der) > size - 11:
        raise ValueError("DigestInfo too long for the key")
    encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(digest_info_der)) + b"\x00" + digest_info_der
    return pow(int.from_bytes(encoded, "big"), numbers.d, modulus).to_bytes(size, "big")


def encode_date_of_birth(value: date) -> str:
    """Encode a date of birth as the test profile's ``EYYYYMMDD`` (era digit, then the Gregorian date)."""
    era = next((code for start, code in _ERAS if value >= start), "0")
    return f"{era}{value:%Y%m%d}"


def _utf8_string_der(value: str) -> bytes:
    """DER-encode a UTF8String."""
    body = value.encode("utf-8")
    if len(body) < 0x80:
        length = bytes([len(body)])
    else:
        raw = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return b"\x0c" + length + body


def _random_serial() -> int:
    """Return a positive 64-bit-ish serial number, never zero."""
    return secrets.randbits(63) | 1


@dataclass(frozen=True)
class CardHolder:
    """The card holder's four basic facts (基本4情報), as they appear in the signature certificate."""

    name: str
    date_of_birth: date
    sex: Literal["1", "2", "3"]
    address: str

    @classmethod
    def example(cls) -> CardHolder:
        """Return a fixed, obviously fictitious holder."""
        return cls(
            name="NGUYEN VAN AN",
            date_of_birth=date(1995, 4, 1),
            sex="1",
            address="東京都千代田区霞が関一丁目1番1号",
        )


@dataclass(frozen=True)
class TestCa:
    """One test CA: its kind, generation, key and self-signed certificate."""

    __test__ = False  # not a pytest test class

    kind: Kind
    generation: str
    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)

    @property
    def der(self) -> bytes:
        """Return the CA certificate as DER."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def name(self) -> x509.Name:
        """Return the CA's subject DN."""
        return self.certificate.subject


@dataclass(frozen=True)
class OcspResponderIdentity:
    """A delegated OCSP responder certificate (extendedKeyUsage OCSPSigning) issued by a test CA."""

    certificate: x509.Certificate = field(repr=False)
    key: rsa.RSAPrivateKey = field(repr=False)


@dataclass(frozen=True)
class TestCard:
    """A virtual My Number Card's JPKI AP content: both certificates, both private keys and both CA certificates."""

    __test__ = False  # not a pytest test class

    holder: CardHolder
    generation: str
    auth_cert_der: bytes = field(repr=False)
    auth_key: rsa.RSAPrivateKey = field(repr=False)
    sign_cert_der: bytes = field(repr=False)
    sign_key: rsa.RSAPrivateKey = field(repr=False)
    auth_ca_der: bytes = field(repr=False)
    sign_ca_der: bytes = field(repr=False)

    def cert_der(self, kind: Kind) -> bytes:
        """Return the certificate of the given kind (DER)."""
        return self.auth_cert_der if kind == "auth" else self.sign_cert_der

    def key(self, kind: Kind) -> rsa.RSAPrivateKey:
        """Return the private key of the given kind."""
        return self.auth_key if kind == "auth" else self.sign_key

    def ca_der(self, kind: Kind) -> bytes:
        """Return the CA certificate of the given kind (DER)."""
        return self.auth_ca_der if kind == "auth" else self.sign_ca_der

    def certificate(self, kind: Kind) -> x509.Certificate:
        """Return the parsed certificate of the given kind."""
        return x509.load_der_x509_certificate(self.cert_der(kind))

    def serial(self, kind: Kind) -> int:
        """Return the serial number of the certificate of the given kind."""
        return self.certificate(kind).serial_number

    def sign(self, kind: Kind, challenge: bytes) -> bytes:
        """Sign a challenge with the key of the given kind, as the card does."""
        return sign_challenge(self.key(kind), challenge)


def _build_ca(kind: Kind, generation: str, not_before: datetime, not_after: datetime) -> TestCa:
    """Create a self-signed CA of the given kind."""
    key = generate_rsa_key()
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_CA_NAMES[kind])
        .issuer_name(_CA_NAMES[kind])
        .public_key(public)
        .serial_number(_random_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TestCa(kind=kind, generation=generation, key=key, certificate=certificate)


def _key_usage(*, digital_signature: bool, non_repudiation: bool) -> x509.KeyUsage:
    """Return an end-entity keyUsage."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _holder_san(holder: CardHolder) -> x509.SubjectAlternativeName:
    """Return the signature certificate's subjectAltName carrying the four basic facts."""
    return x509.SubjectAlternativeName(
        [
            x509.OtherName(OID_NAME, _utf8_string_der(holder.name)),
            x509.OtherName(OID_DATE_OF_BIRTH, _utf8_string_der(encode_date_of_birth(holder.date_of_birth))),
            x509.OtherName(OID_SEX, _utf8_string_der(holder.sex)),
            x509.OtherName(OID_ADDRESS, _utf8_string_der(holder.address)),
        ]
    )


def _end_entity(
    *,
    kind: Kind,
    issuer: TestCa,
    public_key: rsa.RSAPublicKey,
    holder: CardHolder,
    not_before: datetime,
    not_after: datetime,
    serial: int | None,
    subject_cn: str | None,
) -> x509.Certificate:
    """Issue a card certificate of the given kind's shape, signed by ``issuer``."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, subject_cn or secrets.token_hex(12).upper()),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.name)
        .public_key(public_key)
        .serial_number(serial if serial is not None else _random_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    )
    if kind == "auth":
        builder = (
            builder.add_extension(_key_usage(digital_signature=True, non_repudiation=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(AUTH_POLICY_OID, None)]), critical=True
            )
        )
    else:
        builder = (
            builder.add_extension(_key_usage(digital_signature=True, non_repudiation=True), critical=True)
            .add_extension(_holder_san(holder), critical=False)
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(SIGN_POLICY_OID, None)]), critical=True
            )
        )
    return builder.sign(issuer.key, hashes.SHA256())


def _der(certificate: x509.Certificate) -> bytes:
    """Return a certificate as DER."""
    return certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class TestPki:
    """A complete JPKI-like test PKI: authentication and signature CAs in generations ``2015`` and ``2023``."""

    __test__ = False  # not a pytest test class

    now: datetime
    cas: Mapping[tuple[Kind, str], TestCa] = field(repr=False)

    @classmethod
    def create(cls, now: datetime) -> TestPki:
        """Create all four CAs with validity relative to ``now`` (timezone-aware)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        now = now.astimezone(UTC)
        cas: dict[tuple[Kind, str], TestCa] = {}
        for generation in GENERATIONS:
            start, end = _CA_WINDOWS[generation]
            for kind in ("auth", "sign"):
                cas[(kind, generation)] = _build_ca(kind, generation, now + start, now + end)
        return cls(now=now, cas=cas)

    def auth_ca(self, generation: str = "2023") -> TestCa:
        """Return the authentication CA of a generation."""
        return self.cas[("auth", generation)]

    def sign_ca(self, generation: str = "2023") -> TestCa:
        """Return the signature CA of a generation."""
        return self.cas[("sign", generation)]

    def ca(self, kind: Kind, generation: str = "2023") -> TestCa:
        """Return the CA of a kind and generation."""
        return self.cas[(kind, generation)]

    def trusted_cas(self) -> list[TestCa]:
        """Return every CA of the PKI (what a verifier configures as trust anchors)."""
        return list(self.cas.values())

    def rogue_ca(self, kind: Kind, generation: str = "2023") -> TestCa:
        """Return a CA with the genuine DN and validity but a different key: not a trust anchor."""
        genuine = self.ca(kind, generation)
        return _build_ca(
            kind,
            f"rogue-{generation}",
            genuine.certificate.not_valid_before_utc,
            genuine.certificate.not_valid_after_utc,
        )

    def issue_card(
        self,
        holder: CardHolder | None = None,
        *,
        generation: str = "2023",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        auth_issuer: TestCa | None = None,
        sign_issuer: TestCa | None = None,
        auth_serial: int | None = None,
        sign_serial: int | None = None,
        auth_subject_cn: str | None = None,
    ) -> TestCard:
        """Issue a card: fresh key pairs, an authentication and a signature certificate.

        Defaults: issued by the generation's CAs, valid from ``now - 30d`` to ``now + 5y`` for ``2023`` and across the
        CA's own validity for ``2015`` (hence expired). ``auth_issuer``/``sign_issuer`` override the issuing CA (rogue
        or swapped kinds).
        """
        holder = holder or CardHolder.example()
        auth_ca = auth_issuer or self.auth_ca(generation)
        sign_ca = sign_issuer or self.sign_ca(generation)
        if generation == "2023":
            default_start, default_end = self.now - timedelta(days=30), self.now + timedelta(days=1826)
        else:
            ca_cert = self.auth_ca(generation).certificate
            default_start = ca_cert.not_valid_before_utc + timedelta(days=1)
            default_end = ca_cert.not_valid_after_utc
        start = not_before or default_start
        end = not_after or default_end
        auth_key, sign_key = generate_rsa_key(), generate_rsa_key()
        auth_cert = _end_entity(
            kind="auth",
            issuer=auth_ca,
            public_key=auth_key.public_key(),
            holder=holder,
            not_before=start,
            not_after=end,
            serial=auth_serial,
            subject_cn=auth_subject_cn,
        )
        sign_cert = _end_entity(
            kind="sign",
            issuer=sign_ca,
            public_key=sign_key.public_key(),
            holder=holder,
            not_before=start,
            not_after=end,
            serial=sign_serial,
            subject_cn=None,
        )
        return TestCard(
            holder=holder,
            generation=generation,
            auth_cert_der=_der(auth_cert),
            auth_key=auth_key,
            sign_cert_der=_der(sign_cert),
            sign_key=sign_key,
            auth_ca_der=auth_ca.der,
            sign_ca_der=sign_ca.der,
        )

    def expired_card(self, holder: CardHolder | None = None) -> TestCard:
        """Issue a current-generation card whose certificates expired yesterday."""
        return self.issue_card(
            holder, not_before=self.now - timedelta(days=400), not_after=self.now - timedelta(days=1)
        )

    def not_yet_valid_card(self, holder: CardHolder | None = None) -> TestCard:
        """Issue a current-generation card whose certificates become valid tomorrow."""
        return self.issue_card(
            holder, not_before=self.now + timedelta(days=1), not_after=self.now + timedelta(days=400)
        )

    def wrong_ca_card(self, holder: CardHolder | None = None) -> TestCard:
        """Issue a card from rogue CAs that carry the genuine DNs but other keys (not trusted)."""
        return self.issue_card(holder, auth_issuer=self.rogue_ca("auth"), sign_issuer=self.rogue_ca("sign"))

    def wrong_kind_card(self, holder: CardHolder | None = None) -> TestCard:
        """Issue a card whose authentication certificate comes from the signature CA and vice versa."""
        return self.issue_card(holder, auth_issuer=self.sign_ca(), sign_issuer=self.auth_ca())

    def crl(
        self,
        kind: Kind,
        generation: str = "2023",
        revoked: Iterable[int] = (),
        *,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        signer: TestCa | None = None,
        pem: bool = False,
    ) -> bytes:
        """Return a CRL of the CA (DER, or PEM) listing ``revoked`` serials; default validity ``now - 1h`` to ``now + 1d``.

        ``signer`` signs with another CA's key while keeping the genuine issuer name (a forged CRL).
        """
        ca = self.ca(kind, generation)
        signing = signer or ca
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.name)
            .last_update(this_update or self.now - timedelta(hours=1))
            .next_update(next_update or self.now + timedelta(days=1))
            .add_extension(x509.CRLNumber(secrets.randbits(32)), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signing.key.public_key()), critical=False
            )
        )
        for serial in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(self.now - timedelta(hours=2))
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        crl = builder.sign(signing.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.PEM if pem else serialization.Encoding.DER)

    def ocsp_responder(self, kind: Kind, generation: str = "2023") -> OcspResponderIdentity:
        """Issue a delegated OCSP responder certificate (extendedKeyUsage OCSPSigning) under a CA."""
        ca = self.ca(kind, generation)
        key = generate_rsa_key()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI"),
                        x509.NameAttribute(NameOID.COMMON_NAME, f"Test OCSP responder ({kind} {generation})"),
                    ]
                )
            )
            .issuer_name(ca.name)
            .public_key(key.public_key())
            .serial_number(_random_serial())
            .not_valid_before(self.now - timedelta(days=1))
            .not_valid_after(self.now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True, non_repudiation=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
            )
            .sign(ca.key, hashes.SHA256())
        )
        return OcspResponderIdentity(certificate=certificate, key=key)
