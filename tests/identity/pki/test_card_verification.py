"""verify_card_response accepts genuine card responses and refuses every other case with its own code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from identity.domain.challenge import Challenge, ChallengePurpose, InMemoryChallengeStore, issue_challenge
from identity.domain.jpki import (
    CardKind,
    CardRefusalCode,
    CardRefused,
    RevocationResult,
    RevocationStatus,
    TrustAnchor,
    VerifiedCard,
    card_holder_handle,
    verify_card_response,
)
from shared.testing.jpki import GENERATIONS, CardHolder, TestCard, TestPki, generate_rsa_key, sign_challenge

pytestmark = pytest.mark.unit

PEPPER = b"test-pepper-0123456789abcdef"


class FakeRevocationChecker:
    """Answers one fixed status, or raises, and records what it was asked."""

    def __init__(self, status: RevocationStatus = RevocationStatus.GOOD, *, error: bool = False) -> None:
        self.status = status
        self.error = error
        self.asked: list[int] = []

    async def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationResult:
        self.asked.append(certificate.serial_number)
        if self.error:
            raise RuntimeError("backend exploded")
        return RevocationResult(self.status, "fake", "fixed answer")


def anchors_of(pki: TestPki) -> list[TrustAnchor]:
    return [TrustAnchor(ca.kind, f"{ca.kind}-{ca.generation}", ca.certificate) for ca in pki.trusted_cas()]


@dataclass
class Attempt:
    store: InMemoryChallengeStore
    challenge: Challenge


async def new_attempt(now: datetime, purpose: ChallengePurpose = ChallengePurpose.SIGN_IN) -> Attempt:
    store = InMemoryChallengeStore()
    challenge = issue_challenge(attempt_id="attempt-1", purpose=purpose, now=now)
    await store.add(challenge)
    return Attempt(store, challenge)


async def verify(
    pki: TestPki,
    attempt: Attempt,
    *,
    certificate_der: bytes,
    signature: bytes,
    kind: CardKind = "auth",
    now: datetime,
    revocation: FakeRevocationChecker | None = None,
    anchors: list[TrustAnchor] | None = None,
    challenge_id: str | None = None,
    attempt_id: str = "attempt-1",
    purpose: ChallengePurpose = ChallengePurpose.SIGN_IN,
) -> VerifiedCard:
    return await verify_card_response(
        challenges=attempt.store,
        challenge_id=challenge_id or attempt.challenge.id,
        attempt_id=attempt_id,
        purpose=purpose,
        certificate_der=certificate_der,
        signature=signature,
        kind=kind,
        anchors=anchors if anchors is not None else anchors_of(pki),
        revocation=revocation or FakeRevocationChecker(),
        now=now,
    )


async def verify_card(
    pki: TestPki, card: TestCard, now: datetime, kind: CardKind = "auth", **kwargs: object
) -> VerifiedCard:
    attempt = await new_attempt(now)
    return await verify(
        pki,
        attempt,
        certificate_der=card.cert_der(kind),
        signature=card.sign(kind, attempt.challenge.value),
        kind=kind,
        now=now,
        **kwargs,  # type: ignore[arg-type]
    )


async def refusal(coro: object) -> CardRefusalCode:
    with pytest.raises(CardRefused) as caught:
        await coro  # type: ignore[misc]
    assert caught.value.reason.ja
    assert caught.value.reason.en
    return caught.value.refusal_code


# -- accepted ------------------------------------------------------------------------------------------------------


async def test_accepts_an_authentication_response(pki: TestPki, card: TestCard, now: datetime) -> None:
    verified = await verify_card(pki, card, now)
    assert verified.kind == "auth"
    assert verified.anchor_label == "auth-2023"
    assert verified.serial_number == card.serial("auth")
    assert verified.facts is None
    assert verified.revocation.status is RevocationStatus.GOOD


async def test_accepts_a_signature_response_and_reads_the_four_facts(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    verified = await verify_card(pki, card, now, "sign")
    assert verified.anchor_label == "sign-2023"
    assert verified.facts is not None
    assert verified.facts.name == card.holder.name
    assert verified.facts.date_of_birth == card.holder.date_of_birth
    assert verified.facts.sex == card.holder.sex
    assert verified.facts.address == card.holder.address


async def test_the_challenge_is_consumed_after_success(pki: TestPki, card: TestCard, now: datetime) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value)
    await verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=now)
    stored = await attempt.store.get(attempt.challenge.id)
    assert stored is not None
    assert stored.consumed_at == now


async def test_trust_anchors_may_list_only_the_current_generation(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    current = [a for a in anchors_of(pki) if a.label.endswith("2023")]
    verified = await verify_card(pki, card, now, anchors=current)
    assert verified.anchor_label == "auth-2023"


async def test_a_card_of_the_old_generation_verifies_while_that_generation_was_valid(pki: TestPki) -> None:
    old_card = pki.issue_card(generation="2015")
    then = pki.auth_ca("2015").certificate.not_valid_after_utc - timedelta(days=10)
    verified = await verify_card(pki, old_card, then)
    assert verified.anchor_label == "auth-2015"


# -- challenge -----------------------------------------------------------------------------------------------------


async def test_refuses_an_unknown_challenge(pki: TestPki, card: TestCard, now: datetime) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value)
    code = await refusal(
        verify(
            pki,
            attempt,
            certificate_der=card.auth_cert_der,
            signature=signature,
            now=now,
            challenge_id="nope",
        )
    )
    assert code is CardRefusalCode.CHALLENGE_UNKNOWN


async def test_refuses_a_challenge_of_another_attempt(pki: TestPki, card: TestCard, now: datetime) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value)
    code = await refusal(
        verify(
            pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=now, attempt_id="other"
        )
    )
    assert code is CardRefusalCode.CHALLENGE_UNKNOWN


async def test_refuses_a_challenge_issued_for_another_purpose(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    attempt = await new_attempt(now, ChallengePurpose.REGISTRATION)
    signature = card.sign("auth", attempt.challenge.value)
    code = await refusal(
        verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=now)
    )
    assert code is CardRefusalCode.CHALLENGE_UNKNOWN


async def test_refuses_a_replayed_challenge(pki: TestPki, card: TestCard, now: datetime) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value)
    await verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=now)
    code = await refusal(
        verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=now)
    )
    assert code is CardRefusalCode.CHALLENGE_REPLAYED


async def test_refuses_when_another_request_consumed_the_challenge_first(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value)

    class RacingStore(InMemoryChallengeStore):
        async def consume(self, challenge_id: str, *, at: datetime) -> bool:
            return False

    racing = RacingStore()
    await racing.add(attempt.challenge)
    code = await refusal(
        verify(
            pki,
            Attempt(racing, attempt.challenge),
            certificate_der=card.auth_cert_der,
            signature=signature,
            now=now,
        )
    )
    assert code is CardRefusalCode.CHALLENGE_REPLAYED


async def test_refuses_an_expired_challenge(pki: TestPki, card: TestCard, now: datetime) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value)
    later = attempt.challenge.expires_at + timedelta(seconds=1)
    code = await refusal(
        verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=later)
    )
    assert code is CardRefusalCode.CHALLENGE_EXPIRED


# -- signature -----------------------------------------------------------------------------------------------------


async def test_refuses_a_signature_over_other_data(pki: TestPki, card: TestCard, now: datetime) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value + b"x")
    code = await refusal(
        verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=now)
    )
    assert code is CardRefusalCode.SIGNATURE_INVALID


async def test_refuses_a_signature_by_the_other_key_of_the_card(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("sign", attempt.challenge.value)
    code = await refusal(
        verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=now)
    )
    assert code is CardRefusalCode.SIGNATURE_INVALID


async def test_refuses_a_truncated_signature(pki: TestPki, card: TestCard, now: datetime) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value)[:-1]
    code = await refusal(
        verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, now=now)
    )
    assert code is CardRefusalCode.SIGNATURE_INVALID


async def test_a_bad_signature_leaves_the_challenge_open(pki: TestPki, card: TestCard, now: datetime) -> None:
    attempt = await new_attempt(now)
    await refusal(verify(pki, attempt, certificate_der=card.auth_cert_der, signature=b"\x00" * 256, now=now))
    stored = await attempt.store.get(attempt.challenge.id)
    assert stored is not None
    assert stored.consumed_at is None


# -- certificate ---------------------------------------------------------------------------------------------------


async def test_refuses_garbage_as_malformed(pki: TestPki, now: datetime) -> None:
    attempt = await new_attempt(now)
    code = await refusal(verify(pki, attempt, certificate_der=b"\x30\x03abc", signature=b"", now=now))
    assert code is CardRefusalCode.CERTIFICATE_MALFORMED


async def test_refuses_a_non_rsa_key_as_malformed(pki: TestPki, now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    ca = pki.auth_ca()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")]))
        .issuer_name(ca.name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(ca.key, hashes.SHA256())
    )
    attempt = await new_attempt(now)
    der = cert.public_bytes(serialization.Encoding.DER)
    code = await refusal(verify(pki, attempt, certificate_der=der, signature=b"\x00" * 64, now=now))
    assert code is CardRefusalCode.CERTIFICATE_MALFORMED


async def test_refuses_a_signature_certificate_without_the_basic_facts(pki: TestPki, now: datetime) -> None:
    key = generate_rsa_key()
    ca = pki.sign_ca()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP")]))
        .issuer_name(ca.name)
        .public_key(key.public_key())
        .serial_number(8)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .sign(ca.key, hashes.SHA256())
    )
    attempt = await new_attempt(now)
    der = cert.public_bytes(serialization.Encoding.DER)
    signature = sign_challenge(key, attempt.challenge.value)
    code = await refusal(verify(pki, attempt, certificate_der=der, signature=signature, kind="sign", now=now))
    assert code is CardRefusalCode.CERTIFICATE_MALFORMED


async def test_refuses_a_card_from_a_ca_with_the_genuine_name_but_another_key(
    pki: TestPki, now: datetime
) -> None:
    code = await refusal(verify_card(pki, pki.wrong_ca_card(), now))
    assert code is CardRefusalCode.CERTIFICATE_UNKNOWN_CA


async def test_refuses_a_card_when_no_anchor_of_its_ca_is_configured(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    only_sign = [a for a in anchors_of(pki) if a.kind == "sign" and a.label.endswith("2015")]
    code = await refusal(verify_card(pki, card, now, anchors=only_sign))
    assert code is CardRefusalCode.CERTIFICATE_UNKNOWN_CA


async def test_refuses_an_authentication_certificate_presented_as_signature(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    attempt = await new_attempt(now)
    signature = card.sign("auth", attempt.challenge.value)
    code = await refusal(
        verify(pki, attempt, certificate_der=card.auth_cert_der, signature=signature, kind="sign", now=now)
    )
    assert code is CardRefusalCode.CERTIFICATE_WRONG_KIND


async def test_refuses_a_certificate_issued_by_the_ca_of_the_other_kind(pki: TestPki, now: datetime) -> None:
    code = await refusal(verify_card(pki, pki.wrong_kind_card(), now))
    assert code is CardRefusalCode.CERTIFICATE_WRONG_KIND


async def test_refuses_an_authentication_certificate_with_non_repudiation_usage(
    pki: TestPki, now: datetime
) -> None:
    key = generate_rsa_key()
    ca = pki.auth_ca()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP")]))
        .issuer_name(ca.name)
        .public_key(key.public_key())
        .serial_number(9)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .sign(ca.key, hashes.SHA256())
    )
    attempt = await new_attempt(now)
    der = cert.public_bytes(serialization.Encoding.DER)
    signature = sign_challenge(key, attempt.challenge.value)
    code = await refusal(verify(pki, attempt, certificate_der=der, signature=signature, now=now))
    assert code is CardRefusalCode.CERTIFICATE_WRONG_KIND


async def test_refuses_an_expired_certificate(pki: TestPki, now: datetime) -> None:
    code = await refusal(verify_card(pki, pki.expired_card(), now))
    assert code is CardRefusalCode.CERTIFICATE_EXPIRED


async def test_refuses_a_card_of_the_expired_generation(pki: TestPki, now: datetime) -> None:
    code = await refusal(verify_card(pki, pki.issue_card(generation=GENERATIONS[0]), now, "sign"))
    assert code is CardRefusalCode.CERTIFICATE_EXPIRED


async def test_refuses_a_valid_certificate_whose_ca_expired(pki: TestPki, now: datetime) -> None:
    # Contrived on purpose: the card's own dates are fine but its CA generation is over.
    card = pki.issue_card(
        generation="2015", not_before=now - timedelta(days=1), not_after=now + timedelta(days=1)
    )
    code = await refusal(verify_card(pki, card, now))
    assert code is CardRefusalCode.CERTIFICATE_EXPIRED


async def test_refuses_a_not_yet_valid_certificate(pki: TestPki, now: datetime) -> None:
    code = await refusal(verify_card(pki, pki.not_yet_valid_card(), now))
    assert code is CardRefusalCode.CERTIFICATE_NOT_YET_VALID


# -- revocation ----------------------------------------------------------------------------------------------------


async def test_refuses_a_revoked_certificate(pki: TestPki, card: TestCard, now: datetime) -> None:
    code = await refusal(
        verify_card(pki, card, now, revocation=FakeRevocationChecker(RevocationStatus.REVOKED))
    )
    assert code is CardRefusalCode.CERTIFICATE_REVOKED


async def test_refuses_when_revocation_status_is_unknown(pki: TestPki, card: TestCard, now: datetime) -> None:
    code = await refusal(
        verify_card(pki, card, now, revocation=FakeRevocationChecker(RevocationStatus.UNKNOWN))
    )
    assert code is CardRefusalCode.CERTIFICATE_REVOCATION_UNKNOWN


async def test_a_failing_revocation_backend_counts_as_unknown(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    code = await refusal(verify_card(pki, card, now, revocation=FakeRevocationChecker(error=True)))
    assert code is CardRefusalCode.CERTIFICATE_REVOCATION_UNKNOWN


def test_every_refusal_code_has_japanese_and_english_messages() -> None:
    for code in CardRefusalCode:
        reason = CardRefused(code).reason
        assert reason.code == code.value
        assert reason.ja
        assert reason.en


# -- handles -------------------------------------------------------------------------------------------------------


async def test_authentication_handle_is_stable_per_certificate_and_differs_between_cards(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    first = card_holder_handle(await verify_card(pki, card, now), pepper=PEPPER)
    again = card_holder_handle(await verify_card(pki, card, now), pepper=PEPPER)
    other = card_holder_handle(await verify_card(pki, pki.issue_card(), now), pepper=PEPPER)
    assert first == again
    assert first != other
    assert first.startswith("auth:v1:")


async def test_authentication_handle_tells_generations_apart_for_the_same_serial(
    pki: TestPki, now: datetime
) -> None:
    then = pki.auth_ca("2015").certificate.not_valid_after_utc - timedelta(days=10)
    old = pki.issue_card(generation="2015", auth_serial=42)
    new = pki.issue_card(auth_serial=42)
    old_handle = card_holder_handle(await verify_card(pki, old, then), pepper=PEPPER)
    new_handle = card_holder_handle(await verify_card(pki, new, now), pepper=PEPPER)
    assert old_handle != new_handle


async def test_signature_handle_follows_the_person_across_reissued_cards(pki: TestPki, now: datetime) -> None:
    holder = CardHolder.example()
    first = card_holder_handle(await verify_card(pki, pki.issue_card(holder), now, "sign"), pepper=PEPPER)
    second = card_holder_handle(await verify_card(pki, pki.issue_card(holder), now, "sign"), pepper=PEPPER)
    assert first == second
    assert first.startswith("sign:v1:")
    assert holder.name not in first


async def test_handles_need_a_real_pepper(pki: TestPki, card: TestCard, now: datetime) -> None:
    verified = await verify_card(pki, card, now)
    with pytest.raises(ValueError, match="pepper"):
        card_holder_handle(verified, pepper=b"short")


def test_a_trust_anchor_must_be_a_ca(card: TestCard) -> None:
    with pytest.raises(ValueError, match="not a CA"):
        TrustAnchor.load("auth", "leaf", card.auth_cert_der)
