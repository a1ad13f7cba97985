"""The shared test PKI produces JPKI-shaped CAs, certificates, CRLs and card signatures."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from shared.testing.jpki import (
    AUTH_CA_NAME,
    OID_ADDRESS,
    OID_DATE_OF_BIRTH,
    OID_NAME,
    OID_SEX,
    SIGN_CA_NAME,
    CardHolder,
    TestCard,
    TestPki,
    digest_info,
    encode_date_of_birth,
    sign_challenge,
    sign_digest_info,
)

pytestmark = pytest.mark.unit


def test_ca_names_are_the_jpki_issuer_dns(pki: TestPki) -> None:
    assert pki.auth_ca().name.rfc4514_string() == (
        "OU=Japan Agency for Local Authority Information Systems,OU=JPKI for user authentication,O=JPKI,C=JP"
    )
    assert pki.sign_ca().name == SIGN_CA_NAME
    assert pki.auth_ca("2015").name == AUTH_CA_NAME


def test_generations_share_the_dn_but_not_the_key(pki: TestPki) -> None:
    old, new = pki.auth_ca("2015"), pki.auth_ca("2023")
    assert old.name == new.name
    assert old.certificate.public_key() != new.certificate.public_key()


def test_the_2015_generation_is_expired_and_the_2023_generation_current(pki: TestPki, now: datetime) -> None:
    assert pki.sign_ca("2015").certificate.not_valid_after_utc < now
    current = pki.sign_ca("2023").certificate
    assert current.not_valid_before_utc < now < current.not_valid_after_utc


def test_card_keys_are_rsa_2048(card: TestCard) -> None:
    assert card.auth_key.key_size == 2048
    assert card.sign_key.key_size == 2048


def test_authentication_certificate_has_only_country_and_opaque_cn(card: TestCard) -> None:
    cert = card.certificate("auth")
    assert [a.oid for a in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.content_commitment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)


def test_signature_certificate_carries_the_four_basic_facts() -> None:
    holder = CardHolder(
        name="山田 花子", date_of_birth=datetime(2001, 2, 3).date(), sex="2", address="大阪市北区1-1"
    )
    card = TestPki.create(datetime(2026, 1, 1, tzinfo=UTC)).issue_card(holder)
    cert = card.certificate("sign")
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.content_commitment
    assert usage.digital_signature
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    others = {o.type_id: o.value for o in names.get_values_for_type(x509.OtherName)}
    assert others[OID_NAME] == b"\x0c" + bytes([len("山田 花子".encode())]) + "山田 花子".encode()
    assert others[OID_DATE_OF_BIRTH][2:] == b"420010203"
    assert others[OID_SEX][2:] == b"2"
    assert OID_ADDRESS in others


def test_certificates_chain_to_their_generation_ca(pki: TestPki, card: TestCard) -> None:
    card.certificate("auth").verify_directly_issued_by(pki.auth_ca().certificate)
    card.certificate("sign").verify_directly_issued_by(pki.sign_ca().certificate)
    with pytest.raises(InvalidSignature):
        card.certificate("auth").verify_directly_issued_by(pki.auth_ca("2015").certificate)


def test_sign_challenge_matches_the_card_computing_over_digest_info(card: TestCard) -> None:
    challenge = bytes(range(32))
    info = digest_info(challenge)
    assert len(info) == 51
    assert sign_challenge(card.auth_key, challenge) == sign_digest_info(card.auth_key, info)
    public = card.certificate("auth").public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(card.sign("auth", challenge), challenge, padding.PKCS1v15(), hashes.SHA256())


def test_expired_and_not_yet_valid_cards(pki: TestPki, now: datetime) -> None:
    assert pki.expired_card().certificate("auth").not_valid_after_utc < now
    assert pki.not_yet_valid_card().certificate("sign").not_valid_before_utc > now
    old = pki.issue_card(generation="2015")
    assert old.certificate("auth").not_valid_after_utc < now


def test_wrong_ca_card_has_the_genuine_issuer_name_but_another_key(pki: TestPki) -> None:
    rogue = pki.wrong_ca_card().certificate("auth")
    assert rogue.issuer == AUTH_CA_NAME
    with pytest.raises(InvalidSignature):
        rogue.verify_directly_issued_by(pki.auth_ca().certificate)


def test_wrong_kind_card_swaps_the_issuers(pki: TestPki) -> None:
    swapped = pki.wrong_kind_card()
    assert swapped.certificate("auth").issuer == SIGN_CA_NAME
    assert swapped.certificate("sign").issuer == AUTH_CA_NAME


def test_crl_lists_revoked_serials_and_is_signed_by_the_ca(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    crl = x509.load_der_x509_crl(pki.crl("auth", revoked=[card.serial("auth")]))
    assert crl.is_signature_valid(pki.auth_ca().certificate.public_key())  # type: ignore[arg-type]
    assert crl.get_revoked_certificate_by_serial_number(card.serial("auth")) is not None
    assert crl.next_update_utc is not None
    assert crl.next_update_utc > now
    stale = x509.load_pem_x509_crl(pki.crl("sign", next_update=now - timedelta(hours=1), pem=True))
    assert stale.next_update_utc is not None
    assert stale.next_update_utc < now


def test_encode_date_of_birth_uses_the_era_digit() -> None:
    assert encode_date_of_birth(datetime(1985, 6, 7).date()) == "319850607"
    assert encode_date_of_birth(datetime(2020, 1, 1).date()) == "520200101"


def test_create_refuses_a_naive_clock() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TestPki.create(datetime(2026, 1, 1))
