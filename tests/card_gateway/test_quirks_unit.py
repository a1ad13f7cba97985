"""Cards that answer differently from card.md (issue 12, points 16-20), over the in-memory backend."""

from __future__ import annotations

import threading

import pytest

from card_gateway.adapters.bounded import AbandonedCallTracker
from card_gateway.domain import apdu
from card_gateway.domain.errors import (
    CardCommunicationError,
    NoCardError,
    NotMyNumberCardError,
    PinBlockedError,
    PinTriesUnknownError,
    ReaderBusyError,
    UnsupportedKeyError,
    WrongPinError,
)
from card_gateway.service_layer.gateway import CardGateway
from card_gateway.virtual_card import CardQuirks, VirtualJpkiCard, VirtualOtherCard
from shared.testing.jpki import TestCard
from tests.card_gateway.conftest import AUTH_PIN, SIGN_PIN, make_card
from tests.card_gateway.fakes import FakeReaderBackend
from tests.card_gateway.test_gateway_unit import CHALLENGE, verifies_sent, verify

pytestmark = pytest.mark.unit

READER_0 = "Fake Reader 0"
READER_1 = "Fake Reader 1"


def gateway_with(card: VirtualJpkiCard | VirtualOtherCard) -> CardGateway:
    return CardGateway(FakeReaderBackend({READER_0: card}), operation_timeout_s=5, busy_timeout_s=0.1)


def signs_sent(card: VirtualJpkiCard) -> int:
    return sum(1 for c in card.commands if c.ins == 0x2A)


# --- 16: a tries query answered 90 00 says nothing about the count ---------------------------------------------


def test_a_tries_query_answered_9000_is_unknown_even_on_a_blocked_card(test_card: TestCard) -> None:
    card = make_card(test_card, quirks=CardQuirks(tries_query_answers_ok=True))
    card.set_tries(auth=0, signature=0)
    tries = gateway_with(card).pin_tries()
    assert (tries.auth, tries.signature) == (None, None)


@pytest.mark.parametrize("left", [0, 1, 3])
def test_no_pin_is_sent_without_a_known_count(test_card: TestCard, left: int) -> None:
    card = make_card(test_card, quirks=CardQuirks(tries_query_answers_ok=True))
    card.set_tries(auth=left, signature=min(left, 5))
    gateway = gateway_with(card)
    with pytest.raises(PinTriesUnknownError) as info:
        gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN, confirm_last_try=True)
    assert info.value.code == "pin.tries_unknown" and info.value.details["tries_left"] is None
    assert "残り回数" in info.value.message_ja and "tries" in info.value.message_en
    with pytest.raises(PinTriesUnknownError):
        gateway.sign_with_signature_key(CHALLENGE, SIGN_PIN, confirm_last_try=True)
    with pytest.raises(PinTriesUnknownError):
        gateway.read_signature_certificate(SIGN_PIN, confirm_last_try=True)
    assert verifies_sent(card) == 0
    assert card.tries() == {"auth": left, "signature": min(left, 5)}


@pytest.mark.parametrize(("sw", "tries"), [(0x6300, None), (0x6985, None), (0x9000, None), (0x63C2, 2)])
def test_only_63cx_or_a_blocked_status_carries_a_count(sw: int, tries: int | None) -> None:
    assert apdu.tries_left_from_sw(sw) == tries


# --- 17: a wrong PIN answered 63 00 --------------------------------------------------------------------------


def test_a_wrong_pin_answered_6300_is_pin_wrong_with_unknown_tries(test_card: TestCard) -> None:
    card = make_card(test_card, quirks=CardQuirks(wrong_pin_without_counter=True))
    gateway = gateway_with(card)
    with pytest.raises(WrongPinError) as info:
        gateway.sign_with_auth_key(CHALLENGE, "0000")
    assert info.value.code == "pin.wrong" and info.value.details["tries_left"] is None
    assert "分かりません" in info.value.message_ja and "did not report" in info.value.message_en
    assert card.tries()["auth"] == 2 and verifies_sent(card) == 1
    with pytest.raises(WrongPinError):
        gateway.sign_with_signature_key(CHALLENGE, "WRONG9")
    assert gateway.pin_tries().signature == 4
    verify(gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN).signature, test_card.auth_cert_der)


def test_a_blocked_pin_stays_blocked_with_the_6300_quirk(test_card: TestCard) -> None:
    card = make_card(test_card, quirks=CardQuirks(wrong_pin_without_counter=True))
    card.set_tries(auth=1)
    with pytest.raises(WrongPinError):
        gateway_with(card).sign_with_auth_key(CHALLENGE, "0000", confirm_last_try=True)
    with pytest.raises(PinBlockedError):
        gateway_with(card).sign_with_auth_key(CHALLENGE, AUTH_PIN, confirm_last_try=True)
    assert verifies_sent(card) == 1


# --- 18: the default reader is the first one holding a My Number Card ------------------------------------------


def test_the_default_reader_is_the_first_with_a_my_number_card(virtual_card: VirtualJpkiCard) -> None:
    gateway = CardGateway(FakeReaderBackend({READER_0: VirtualOtherCard(), READER_1: virtual_card}))
    assert gateway.card_status().reader == READER_1 and gateway.card_status().my_number_card
    assert gateway.pin_tries().reader == READER_1
    assert gateway.read_auth_certificate().reader == READER_1
    result = gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert result.reader == READER_1
    verify(result.signature, result.certificate)
    assert gateway.card_status(READER_0).my_number_card is False


def test_no_pin_goes_to_a_card_that_is_not_a_my_number_card(test_card: TestCard) -> None:
    juki = make_card(test_card, token="JPKIAPICCTOKEN")
    mine = make_card(test_card)
    gateway = CardGateway(FakeReaderBackend({READER_0: juki, READER_1: mine}))
    gateway.sign_with_signature_key(CHALLENGE, SIGN_PIN)
    assert verifies_sent(juki) == 0 and verifies_sent(mine) == 1


def test_no_my_number_card_anywhere_names_every_reader(test_card: TestCard) -> None:
    juki = make_card(test_card, token="JPKIAPICCTOKEN")
    gateway = CardGateway(FakeReaderBackend({READER_0: VirtualOtherCard(), READER_1: juki}))
    with pytest.raises(NotMyNumberCardError) as info:
        gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert info.value.details["readers"] == [READER_0, READER_1]
    assert READER_0 in info.value.message_ja and READER_1 in info.value.message_en
    assert verifies_sent(juki) == 0
    status = gateway.card_status()  # tells what is there instead of failing
    assert status.reader == READER_0 and not status.my_number_card


def test_a_single_other_card_names_its_reader(test_card: TestCard) -> None:
    gateway = CardGateway(FakeReaderBackend({READER_0: VirtualOtherCard(), READER_1: None}))
    with pytest.raises(NotMyNumberCardError) as info:
        gateway.pin_tries()
    assert info.value.details["reader"] == READER_0 and READER_0 in info.value.message_ja


def test_no_card_in_any_reader_names_the_readers() -> None:
    gateway = CardGateway(FakeReaderBackend({READER_0: None, READER_1: None}))
    with pytest.raises(NoCardError) as info:
        gateway.pin_tries()
    assert info.value.details["readers"] == [READER_0, READER_1] and READER_1 in info.value.message_en


def test_a_busy_reader_is_passed_over_for_the_next_my_number_card(test_card: TestCard) -> None:
    backend = FakeReaderBackend({READER_0: make_card(test_card), READER_1: make_card(test_card)})
    backend.busy.add(READER_0)
    gateway = CardGateway(backend, busy_timeout_s=0.05)
    assert gateway.pin_tries().reader == READER_1
    backend.cards[READER_1] = VirtualOtherCard()
    with pytest.raises(ReaderBusyError) as info:  # the busy one may hold the My Number Card
        gateway.pin_tries()
    assert info.value.details["reader"] == READER_0


# --- 19: a call that PC/SC keeps waiting gives up after the busy timeout ---------------------------------------


def test_a_stuck_call_is_given_up_and_cleaned_up_when_it_ends() -> None:
    tracker = AbandonedCallTracker()
    release = threading.Event()
    cleaned: list[str] = []
    calls: list[str] = []

    def stuck() -> str:
        calls.append("stuck")
        release.wait(30)
        return "late handle"

    def busy() -> ReaderBusyError:
        return ReaderBusyError("r")

    with pytest.raises(ReaderBusyError):
        tracker.run("r", stuck, timeout_s=0.05, cleanup=cleaned.append, on_timeout=busy)
    assert tracker.stuck("r")
    with pytest.raises(ReaderBusyError):  # waits for the stuck one within its own limit; no second worker
        tracker.run("r", lambda: "x", timeout_s=0.05, cleanup=cleaned.append, on_timeout=busy)
    assert calls == ["stuck"]
    assert (
        tracker.run("other", lambda: "free", timeout_s=5, cleanup=cleaned.append, on_timeout=busy) == "free"
    )
    release.set()
    assert tracker.run("r", lambda: "again", timeout_s=10, cleanup=cleaned.append, on_timeout=busy) == "again"
    assert cleaned == ["late handle"] and not tracker.stuck("r")


def test_a_failing_call_raises_its_own_error() -> None:
    tracker = AbandonedCallTracker()

    def fail() -> str:
        raise NoCardError("r")

    with pytest.raises(NoCardError):
        tracker.run("r", fail, timeout_s=5, cleanup=lambda _: None, on_timeout=lambda: ReaderBusyError("r"))
    assert not tracker.stuck("r")


# --- 20: short reads, 62 82, and keys other than RSA-2048 -----------------------------------------------------


@pytest.mark.parametrize(
    "quirks",
    [
        CardQuirks(read_limit=3),
        CardQuirks(end_of_file_warning=True),
        CardQuirks(end_of_file_warning=True, token_length=15),
        CardQuirks(read_limit=1, end_of_file_warning=True, token_length=16),
    ],
)
def test_short_reads_and_end_of_file_warnings_are_read_on(test_card: TestCard, quirks: CardQuirks) -> None:
    card = make_card(test_card, quirks=quirks)
    gateway = gateway_with(card)
    status = gateway.card_status()
    assert status.my_number_card and status.token == "JPKIAPICCTOKEN2"
    assert gateway.read_auth_certificate().der == test_card.auth_cert_der
    result = gateway.sign_with_signature_key(CHALLENGE, SIGN_PIN)
    assert result.certificate == test_card.sign_cert_der
    verify(result.signature, result.certificate)


def test_a_certificate_shorter_than_its_header_is_an_error_not_a_short_read(test_card: TestCard) -> None:
    card = make_card(
        test_card, auth_certificate=test_card.auth_cert_der[:-10], quirks=CardQuirks(end_of_file_warning=True)
    )
    with pytest.raises(CardCommunicationError) as info:
        gateway_with(card).read_auth_certificate()
    assert "ends after" in info.value.details["detail"]


def test_an_auth_key_other_than_rsa_2048_is_refused_before_the_pin(
    test_card: TestCard, rsa1024_card_options: dict[str, object]
) -> None:
    card = make_card(test_card, **rsa1024_card_options)
    with pytest.raises(UnsupportedKeyError) as info:
        gateway_with(card).sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert info.value.code == "card.unsupported_key" and info.value.details["key"] == "RSA 1024-bit"
    assert "RSA 1024" in info.value.message_ja and "2048" in info.value.message_en
    assert verifies_sent(card) == 0 and signs_sent(card) == 0


def test_a_signature_key_other_than_rsa_2048_is_refused_before_signing(
    test_card: TestCard, rsa1024_card_options: dict[str, object]
) -> None:
    card = make_card(test_card, **rsa1024_card_options)
    with pytest.raises(UnsupportedKeyError) as info:
        gateway_with(card).sign_with_signature_key(CHALLENGE, SIGN_PIN)
    assert info.value.details["pin"] == "signature"
    assert signs_sent(card) == 0 and card.tries()["signature"] == 5
