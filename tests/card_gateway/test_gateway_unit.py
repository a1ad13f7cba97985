"""Gateway operations over the in-memory backend: the rules around PINs, cards and readers."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from card_gateway.domain.errors import (
    CardRemovedError,
    InvalidChallengeError,
    InvalidPinFormatError,
    LastTryConfirmationRequiredError,
    NoCardError,
    NoReaderError,
    NotMyNumberCardError,
    OperationTimeoutError,
    PcscUnavailableError,
    PinBlockedError,
    ReaderBusyError,
    WrongPinError,
)
from card_gateway.service_layer.gateway import AsyncCardGateway, CardGateway
from card_gateway.virtual_card import VirtualJpkiCard, VirtualOtherCard
from shared.testing.jpki import TestCard
from tests.card_gateway.conftest import AUTH_PIN, EMPTY_FAKE_READER, FAKE_READER, SIGN_PIN, make_card
from tests.card_gateway.fakes import FakeReaderBackend

pytestmark = pytest.mark.unit

CHALLENGE = bytes(range(32))


def verify(signature: bytes, certificate_der: bytes, challenge: bytes = CHALLENGE) -> None:
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())


def verifies_sent(card: VirtualJpkiCard) -> int:
    return sum(1 for c in card.commands if c.ins == 0x20 and c.data)


def test_picks_the_first_reader_with_a_card(fake_gateway: CardGateway) -> None:
    assert fake_gateway.card_status().reader == FAKE_READER


def test_tells_a_my_number_card_by_its_token(fake_gateway: CardGateway) -> None:
    status = fake_gateway.card_status()
    assert status.my_number_card and status.token == "JPKIAPICCTOKEN2"


def test_an_old_juki_card_is_not_a_my_number_card(
    fake_backend: FakeReaderBackend, test_card: TestCard
) -> None:
    fake_backend.cards[FAKE_READER] = make_card(test_card, token="JPKIAPICCTOKEN")
    gateway = CardGateway(fake_backend)
    status = gateway.card_status()
    assert status.jpki_application and not status.my_number_card
    with pytest.raises(NotMyNumberCardError):
        gateway.read_auth_certificate()


def test_a_card_without_jpki_is_not_a_my_number_card(fake_backend: FakeReaderBackend) -> None:
    fake_backend.cards[FAKE_READER] = VirtualOtherCard()
    gateway = CardGateway(fake_backend)
    assert not gateway.card_status().jpki_application
    with pytest.raises(NotMyNumberCardError):
        gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)


def test_no_reader_and_no_card_are_told_apart(fake_backend: FakeReaderBackend) -> None:
    gateway = CardGateway(fake_backend)
    with pytest.raises(NoCardError):
        gateway.pin_tries(EMPTY_FAKE_READER)
    with pytest.raises(NoReaderError):
        gateway.pin_tries("Unplugged Reader")
    fake_backend.cards = {EMPTY_FAKE_READER: None}
    with pytest.raises(NoCardError):
        gateway.pin_tries()
    fake_backend.cards = {}
    with pytest.raises(NoReaderError):
        gateway.pin_tries()


def test_reads_the_auth_certificate_and_tries(fake_gateway: CardGateway, test_card: TestCard) -> None:
    assert fake_gateway.read_auth_certificate().der == test_card.auth_cert_der
    tries = fake_gateway.pin_tries()
    assert (tries.auth, tries.signature) == (3, 5)


def test_signs_with_the_auth_key(fake_gateway: CardGateway, test_card: TestCard) -> None:
    result = fake_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert result.certificate == test_card.auth_cert_der
    verify(result.signature, result.certificate)


def test_signs_with_the_signature_key_and_returns_its_certificate(
    fake_gateway: CardGateway, test_card: TestCard
) -> None:
    result = fake_gateway.sign_with_signature_key(CHALLENGE, SIGN_PIN)
    assert result.certificate == test_card.sign_cert_der
    verify(result.signature, result.certificate)
    assert fake_gateway.read_signature_certificate(SIGN_PIN).der == test_card.sign_cert_der


def test_checks_the_pin_before_anything_is_sent(
    fake_gateway: CardGateway, fake_backend: FakeReaderBackend
) -> None:
    with pytest.raises(InvalidPinFormatError):
        fake_gateway.sign_with_auth_key(CHALLENGE, "12345")
    with pytest.raises(InvalidPinFormatError):
        fake_gateway.sign_with_signature_key(CHALLENGE, "abc")
    assert fake_backend.connections == 0


@pytest.mark.parametrize("size", [0, 15, 1025])
def test_refuses_challenges_of_the_wrong_size(fake_gateway: CardGateway, size: int) -> None:
    with pytest.raises(InvalidChallengeError):
        fake_gateway.sign_with_auth_key(b"x" * size, AUTH_PIN)


def test_a_wrong_pin_reports_tries_left_and_is_sent_once(
    fake_gateway: CardGateway, virtual_card: VirtualJpkiCard
) -> None:
    with pytest.raises(WrongPinError) as info:
        fake_gateway.sign_with_auth_key(CHALLENGE, "9999")
    assert info.value.details["tries_left"] == 2 and "残り2回" in info.value.message_ja
    assert virtual_card.tries()["auth"] == 2
    assert verifies_sent(virtual_card) == 1


def test_refuses_the_last_try_unless_confirmed(
    fake_gateway: CardGateway, virtual_card: VirtualJpkiCard
) -> None:
    virtual_card.set_tries(auth=1)
    with pytest.raises(LastTryConfirmationRequiredError):
        fake_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert verifies_sent(virtual_card) == 0 and virtual_card.tries()["auth"] == 1
    result = fake_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN, confirm_last_try=True)
    verify(result.signature, result.certificate)
    assert virtual_card.tries()["auth"] == 3


def test_a_wrong_last_try_blocks_and_blocked_pins_are_not_sent(
    fake_gateway: CardGateway, virtual_card: VirtualJpkiCard
) -> None:
    virtual_card.set_tries(signature=1)
    with pytest.raises(PinBlockedError):
        fake_gateway.sign_with_signature_key(CHALLENGE, "WRONG1", confirm_last_try=True)
    assert fake_gateway.pin_tries().signature == 0
    sent = verifies_sent(virtual_card)
    with pytest.raises(PinBlockedError) as info:
        fake_gateway.sign_with_signature_key(CHALLENGE, SIGN_PIN, confirm_last_try=True)
    assert verifies_sent(virtual_card) == sent
    assert info.value.code == "pin.blocked" and "市区町村" in info.value.message_ja


def test_removal_mid_operation_ends_it_and_the_next_call_reconnects(
    fake_gateway: CardGateway, fake_backend: FakeReaderBackend, virtual_card: VirtualJpkiCard
) -> None:
    fake_backend.remove_when = lambda c: c.ins == 0x2A
    with pytest.raises(CardRemovedError):
        fake_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    with pytest.raises(NoCardError):
        fake_gateway.card_status()
    fake_backend.cards[FAKE_READER] = virtual_card
    assert fake_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN).signature


def test_another_program_holding_the_reader_is_busy(
    fake_gateway: CardGateway, fake_backend: FakeReaderBackend
) -> None:
    fake_backend.busy.add(FAKE_READER)
    with pytest.raises(ReaderBusyError):
        fake_gateway.pin_tries()


def test_operations_on_one_reader_are_serialised(fake_backend: FakeReaderBackend) -> None:
    gateway = CardGateway(fake_backend, operation_timeout_s=5, busy_timeout_s=0.1)
    fake_backend.delay_when = (lambda c: c.ins == 0xA4 and c.p1 == 0x04, 0.6)
    errors: list[Exception] = []
    first = threading.Thread(target=lambda: gateway.pin_tries())
    first.start()
    time.sleep(0.2)
    try:
        gateway.card_status()
    except ReaderBusyError as exc:
        errors.append(exc)
    first.join()
    assert len(errors) == 1


def test_a_slow_card_times_out_between_apdus(fake_backend: FakeReaderBackend) -> None:
    gateway = CardGateway(fake_backend, operation_timeout_s=0.3)
    fake_backend.delay_when = (lambda c: c.ins == 0xA4 and c.p1 == 0x04, 0.5)
    with pytest.raises(OperationTimeoutError):
        gateway.pin_tries()


async def test_the_async_wrapper_times_out_a_stuck_call(fake_backend: FakeReaderBackend) -> None:
    gateway = AsyncCardGateway(CardGateway(fake_backend, operation_timeout_s=0.2))
    fake_backend.delay_when = (lambda c: c.ins == 0x2A, 1.0)
    started = time.monotonic()
    with pytest.raises(OperationTimeoutError):
        await gateway.run(lambda: gateway.gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN))
    assert time.monotonic() - started < 0.9
    gateway.close()


def test_pcsc_service_down_is_reported(fake_backend: FakeReaderBackend, fake_gateway: CardGateway) -> None:
    fake_backend.service_down = True
    with pytest.raises(PcscUnavailableError):
        fake_gateway.list_readers()


def test_the_pin_never_reaches_the_logs(fake_gateway: CardGateway, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(WrongPinError):
        fake_gateway.sign_with_signature_key(CHALLENGE, "ZZ9911")
    fake_gateway.sign_with_signature_key(CHALLENGE, SIGN_PIN)
    assert "APDU" in caplog.text
    for secret in ("ZZ9911", SIGN_PIN, "5A 5A 39 39", b"ZZ9911".hex()):
        assert secret not in caplog.text
