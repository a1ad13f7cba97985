"""The OCSP backend against the J-LIS responder simulator served on loopback, and CRLs over HTTP."""

from __future__ import annotations

import base64
import socket
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from identity.adapters.ocsp_simulator import OcspSimulator, SimulatedCa
from identity.adapters.revocation import (
    CrlRevocationChecker,
    FallbackRevocationChecker,
    HttpCrlSource,
    OcspRevocationChecker,
)
from identity.domain.challenge import ChallengePurpose, InMemoryChallengeStore, issue_challenge
from identity.domain.jpki import (
    CardRefusalCode,
    CardRefused,
    RevocationResult,
    RevocationStatus,
    TrustAnchor,
    verify_card_response,
)
from shared.testing.jpki import TestCa, TestCard, TestPki

pytestmark = pytest.mark.integration


def simulated(ca: TestCa, **kwargs: object) -> SimulatedCa:
    return SimulatedCa(ca.certificate, ca.key, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def revoked_card(pki: TestPki) -> TestCard:
    return pki.issue_card()


@pytest.fixture
async def simulator(pki: TestPki, now: datetime, revoked_card: TestCard) -> AsyncIterator[OcspSimulator]:
    responder = pki.ocsp_responder("sign")
    cas = [
        simulated(pki.auth_ca(), revoked={revoked_card.serial("auth"): now - timedelta(days=1)}),
        simulated(
            pki.sign_ca(),
            revoked={revoked_card.serial("sign"): now - timedelta(days=1)},
            responder=(responder.certificate, responder.key),
        ),
    ]
    crls = {"auth-2023": pki.crl("auth", revoked=[revoked_card.serial("auth")])}
    async with OcspSimulator(cas, crls=crls, clock=lambda: now) as sim:
        yield sim


async def ask(pki: TestPki, card: TestCard, url: str, now: datetime, kind: str = "auth") -> RevocationResult:
    ca = pki.ca("auth" if kind == "auth" else "sign")
    checker = OcspRevocationChecker([(ca.certificate, url)])
    return await checker.check(
        card.certificate("auth" if kind == "auth" else "sign"), ca.certificate, now=now
    )


async def test_simulator_listens_on_loopback(simulator: OcspSimulator) -> None:
    assert simulator.base_url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{simulator.base_url}/health")
    assert response.text == "ok"


async def test_good_certificate(
    pki: TestPki, card: TestCard, simulator: OcspSimulator, now: datetime
) -> None:
    result = await ask(pki, card, simulator.ocsp_url, now)
    assert result.status is RevocationStatus.GOOD
    assert result.source == "ocsp"


async def test_revoked_certificate(
    pki: TestPki, revoked_card: TestCard, simulator: OcspSimulator, now: datetime
) -> None:
    result = await ask(pki, revoked_card, simulator.ocsp_url, now)
    assert result.status is RevocationStatus.REVOKED
    assert result.revoked_at == now - timedelta(days=1)


async def test_delegated_responder_answers_for_the_signature_ca(
    pki: TestPki, revoked_card: TestCard, card: TestCard, simulator: OcspSimulator, now: datetime
) -> None:
    assert (await ask(pki, card, simulator.ocsp_url, now, "sign")).status is RevocationStatus.GOOD
    assert (await ask(pki, revoked_card, simulator.ocsp_url, now, "sign")).status is RevocationStatus.REVOKED


async def test_unknown_serial_is_unknown(pki: TestPki, card: TestCard, now: datetime) -> None:
    async with OcspSimulator([simulated(pki.auth_ca(), known=set())], clock=lambda: now) as sim:
        result = await ask(pki, card, sim.ocsp_url, now)
    assert result.status is RevocationStatus.UNKNOWN
    assert "does not know" in result.detail


async def test_a_ca_the_responder_does_not_serve_is_unknown(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    async with OcspSimulator([simulated(pki.sign_ca())], clock=lambda: now) as sim:
        result = await ask(pki, card, sim.ocsp_url, now)
    assert result.status is RevocationStatus.UNKNOWN
    assert "UNAUTHORIZED" in result.detail


async def test_a_response_with_a_bad_signature_is_unknown(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    async with OcspSimulator([simulated(pki.auth_ca(), tamper=True)], clock=lambda: now) as sim:
        result = await ask(pki, card, sim.ocsp_url, now)
    assert result.status is RevocationStatus.UNKNOWN
    assert "signature" in result.detail


async def test_a_responder_certificate_not_issued_by_the_ca_is_unknown(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    stranger = TestPki.create(now).ocsp_responder("auth")
    ca = simulated(pki.auth_ca(), responder=(stranger.certificate, stranger.key))
    async with OcspSimulator([ca], clock=lambda: now) as sim:
        result = await ask(pki, card, sim.ocsp_url, now)
    assert result.status is RevocationStatus.UNKNOWN
    assert "delegated" in result.detail


async def test_a_stale_response_is_unknown(pki: TestPki, card: TestCard, now: datetime) -> None:
    async with OcspSimulator(
        [simulated(pki.auth_ca())], clock=lambda: now - timedelta(hours=3), validity=timedelta(hours=1)
    ) as sim:
        result = await ask(pki, card, sim.ocsp_url, now)
    assert result.status is RevocationStatus.UNKNOWN
    assert "stale" in result.detail


async def test_an_unreachable_responder_is_unknown(pki: TestPki, card: TestCard, now: datetime) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await ask(pki, card, f"http://127.0.0.1:{port}/ocsp", now)
    assert result.status is RevocationStatus.UNKNOWN


async def test_simulator_answers_the_get_form_and_echoes_the_nonce(
    pki: TestPki, card: TestCard, simulator: OcspSimulator
) -> None:
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(card.certificate("auth"), pki.auth_ca().certificate, hashes.SHA256())
        .build()
    )
    encoded = base64.b64encode(request.public_bytes(serialization.Encoding.DER)).decode()
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{simulator.ocsp_url}/{encoded.replace('/', '%2F')}")
    parsed = ocsp.load_der_ocsp_response(response.content)
    assert parsed.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert parsed.certificate_status is ocsp.OCSPCertStatus.GOOD


async def test_simulator_refuses_a_malformed_request(simulator: OcspSimulator) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(simulator.ocsp_url, content=b"junk")
    assert ocsp.load_der_ocsp_response(response.content).response_status is (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


async def test_crl_distribution_over_http(
    pki: TestPki, card: TestCard, revoked_card: TestCard, simulator: OcspSimulator, now: datetime
) -> None:
    ca = pki.auth_ca().certificate
    checker = CrlRevocationChecker([(ca, HttpCrlSource(simulator.crl_url("auth-2023")))])
    assert (await checker.check(card.certificate("auth"), ca, now=now)).status is RevocationStatus.GOOD
    assert (
        await checker.check(revoked_card.certificate("auth"), ca, now=now)
    ).status is RevocationStatus.REVOKED
    missing = CrlRevocationChecker([(ca, HttpCrlSource(simulator.crl_url("nope")))])
    assert (await missing.check(card.certificate("auth"), ca, now=now)).status is RevocationStatus.UNKNOWN


async def test_falls_back_to_the_crl_when_the_responder_is_down(
    pki: TestPki, revoked_card: TestCard, simulator: OcspSimulator, now: datetime
) -> None:
    ca = pki.auth_ca().certificate
    checker = FallbackRevocationChecker(
        [
            OcspRevocationChecker([(ca, "http://127.0.0.1:9/ocsp")], timeout=1.0),
            CrlRevocationChecker([(ca, HttpCrlSource(simulator.crl_url("auth-2023")))]),
        ]
    )
    result = await checker.check(revoked_card.certificate("auth"), ca, now=now)
    assert result.status is RevocationStatus.REVOKED
    assert result.source == "crl"


async def test_verify_card_response_refuses_a_card_revoked_at_the_responder(
    pki: TestPki, revoked_card: TestCard, simulator: OcspSimulator, now: datetime
) -> None:
    store = InMemoryChallengeStore()
    challenge = issue_challenge(attempt_id="a", purpose=ChallengePurpose.REGISTRATION, now=now)
    await store.add(challenge)
    anchors = [TrustAnchor(ca.kind, f"{ca.kind}-{ca.generation}", ca.certificate) for ca in pki.trusted_cas()]
    checker = OcspRevocationChecker([(ca.certificate, simulator.ocsp_url) for ca in pki.trusted_cas()])
    with pytest.raises(CardRefused) as caught:
        await verify_card_response(
            challenges=store,
            challenge_id=challenge.id,
            attempt_id="a",
            purpose=ChallengePurpose.REGISTRATION,
            certificate_der=revoked_card.sign_cert_der,
            signature=revoked_card.sign("sign", challenge.value),
            kind="sign",
            anchors=anchors,
            revocation=checker,
            now=now,
        )
    assert caught.value.refusal_code is CardRefusalCode.CERTIFICATE_REVOKED
