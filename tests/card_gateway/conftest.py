"""Fixtures: the shared test PKI, virtual cards, a fake backend, and a private pcscd with vpcd for integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from card_gateway.domain.errors import CardGatewayError
from card_gateway.domain.models import ReaderInfo
from card_gateway.service_layer.gateway import CardGateway
from card_gateway.virtual_card import VirtualCard, VirtualJpkiCard, VpcdCardSlot
from shared.testing.jpki import TestCard, TestPki
from tests.card_gateway.fakes import FakeReaderBackend
from tests.card_gateway.pcsc_env import VPCD_PORTS, Pcscd, listening, start_pcscd, stop_pcscd

if TYPE_CHECKING:
    from card_gateway.adapters.pcsc import PcscBackend

AUTH_PIN = "1234"
SIGN_PIN = "ABC123"
FAKE_READER = "Fake Reader 0"
EMPTY_FAKE_READER = "Fake Reader 1"


@pytest.fixture(scope="session")
def test_pki() -> TestPki:
    """The project's JPKI-like test PKI (shared.testing.jpki)."""
    return TestPki.create(datetime.now(UTC))


@pytest.fixture(scope="session")
def test_card(test_pki: TestPki) -> TestCard:
    """One issued card (keys are slow to make, so the session shares them; card state is per test)."""
    return test_pki.issue_card()


def make_card(test_card: TestCard, **overrides: object) -> VirtualJpkiCard:
    """Return a fresh virtual My Number Card with the test card's certificates and keys."""
    options: dict[str, object] = {
        "auth_certificate": test_card.auth_cert_der,
        "auth_key": test_card.auth_key,
        "sign_certificate": test_card.sign_cert_der,
        "sign_key": test_card.sign_key,
        "auth_ca_certificate": test_card.auth_ca_der,
        "sign_ca_certificate": test_card.sign_ca_der,
        "auth_pin": AUTH_PIN,
        "sign_pin": SIGN_PIN,
        **overrides,
    }
    return VirtualJpkiCard(**options)  # type: ignore[arg-type]


def _reissue(der: bytes, issuer_key: rsa.RSAPrivateKey, key: rsa.RSAPrivateKey) -> bytes:
    """Return a copy of a certificate for another public key, signed again by its CA."""
    old = x509.load_der_x509_certificate(der)
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(old.issuer)
        .public_key(key.public_key())
        .serial_number(old.serial_number)
        .not_valid_before(old.not_valid_before_utc)
        .not_valid_after(old.not_valid_after_utc)
    )
    for extension in old.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="session")
def rsa1024_card_options(test_pki: TestPki, test_card: TestCard) -> dict[str, object]:
    """make_card overrides for a card whose two keys are RSA-1024 (certificates issued by the test CAs)."""
    auth_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    sign_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return {
        "auth_key": auth_key,
        "auth_certificate": _reissue(test_card.auth_cert_der, test_pki.ca("auth").key, auth_key),
        "sign_key": sign_key,
        "sign_certificate": _reissue(test_card.sign_cert_der, test_pki.ca("sign").key, sign_key),
    }


@pytest.fixture
def virtual_card(test_card: TestCard) -> VirtualJpkiCard:
    """A fresh virtual My Number Card: full tries, nothing verified."""
    return make_card(test_card)


@pytest.fixture
def fake_backend(virtual_card: VirtualJpkiCard) -> FakeReaderBackend:
    """Two in-memory readers: one with the virtual card, one empty."""
    return FakeReaderBackend({FAKE_READER: virtual_card, EMPTY_FAKE_READER: None})


@pytest.fixture
def fake_gateway(fake_backend: FakeReaderBackend) -> CardGateway:
    """The gateway over the in-memory backend."""
    return CardGateway(fake_backend, operation_timeout_s=5.0, busy_timeout_s=0.2)


# --- integration: the real pcscd with vsmartcard's vpcd -------------------------------------------------------


def wait_for_card(reader: str, *, present: bool, timeout_s: float = 10.0) -> None:
    """Wait until pcscd reports the card in ``reader`` present (or absent)."""
    from card_gateway.adapters.pcsc import PcscBackend

    backend = PcscBackend()
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        states = {r.name: r.card_present for r in backend.list_readers()}
        if states.get(reader) is present:
            return
        time.sleep(0.05)
    raise AssertionError(f"pcscd never saw {reader} {'with' if present else 'without'} a card")


@pytest.fixture(scope="session")
def pcscd() -> Iterator[Pcscd]:
    """Our own ``pcscd --foreground`` for the session; stopped at the end so vpcd stops listening."""
    try:
        daemon = start_pcscd()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        from card_gateway.adapters.pcsc import PcscBackend

        give_up = time.monotonic() + 15
        while sum("Virtual PCD" in r.name for r in _safe_readers(PcscBackend())) < 2:
            if time.monotonic() > give_up:
                raise AssertionError(f"pcscd did not list the vpcd readers; see {daemon.log_file}")
            time.sleep(0.1)
        yield daemon
    finally:
        stop_pcscd(daemon)
        left = [port for port in VPCD_PORTS if listening(port)]
        assert not left, f"something still listens on {left} after stopping pcscd"


def _safe_readers(backend: PcscBackend) -> list[ReaderInfo]:
    """List readers, treating a service that is still starting as no readers."""
    try:
        return backend.list_readers()
    except CardGatewayError:
        return []


@pytest.fixture(scope="session")
def vpcd_readers(pcscd: Pcscd) -> tuple[str, str]:
    """The two vpcd reader names: slot 0 (port 35963) and slot 1 (port 35964)."""
    from card_gateway.adapters.pcsc import PcscBackend

    names = sorted(r.name for r in PcscBackend().list_readers() if "Virtual PCD" in r.name)
    return names[0], names[1]


@pytest.fixture
def insert_card(vpcd_readers: tuple[str, str]) -> Iterator[Callable[..., VpcdCardSlot]]:
    """Insert a virtual card into vpcd slot 0 (or ``slot=1``) and wait until pcscd sees it; removed after the test."""
    slots: list[tuple[int, VpcdCardSlot]] = []

    def insert(card: VirtualCard, slot: int = 0) -> VpcdCardSlot:
        inserted = VpcdCardSlot(card, host="127.0.0.1", port=VPCD_PORTS[slot])
        inserted.insert()
        slots.append((slot, inserted))
        wait_for_card(vpcd_readers[slot], present=True)
        return inserted

    yield insert
    for _, inserted in slots:
        inserted.remove()
    for slot in sorted({slot for slot, _ in slots} | {0}):
        wait_for_card(vpcd_readers[slot], present=False)


@pytest.fixture
def card_slot(insert_card: Callable[..., VpcdCardSlot], virtual_card: VirtualJpkiCard) -> VpcdCardSlot:
    """The virtual My Number Card inserted into vpcd slot 0."""
    return insert_card(virtual_card)


@pytest.fixture
def pcsc_gateway(pcscd: Pcscd) -> CardGateway:
    """The gateway over the real PC/SC stack."""
    from card_gateway.adapters.pcsc import PcscBackend

    return CardGateway(PcscBackend(), operation_timeout_s=10.0, busy_timeout_s=0.5)
