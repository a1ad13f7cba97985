"""Issue 12, points 16-20, through the real pcscd and vpcd: the virtual card made to answer like those cards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from smartcard import scard

from card_gateway.adapters.pcsc import PcscBackend, ShareMode
from card_gateway.domain.errors import (
    NotMyNumberCardError,
    PinTriesUnknownError,
    ReaderBusyError,
    UnsupportedKeyError,
    WrongPinError,
)
from card_gateway.service_layer.gateway import AsyncCardGateway, CardGateway
from card_gateway.virtual_card import CardQuirks, VirtualOtherCard, VpcdCardSlot
from shared.testing.jpki import TestCard
from tests.card_gateway.conftest import AUTH_PIN, SIGN_PIN, make_card
from tests.card_gateway.test_gateway_unit import verifies_sent, verify

pytestmark = pytest.mark.integration

CHALLENGE = bytes(range(64))
InsertCard = Callable[..., VpcdCardSlot]


def test_a_blocked_card_answering_9000_to_the_tries_query_gets_no_pin(
    pcsc_gateway: CardGateway, insert_card: InsertCard, test_card: TestCard
) -> None:
    card = make_card(test_card, quirks=CardQuirks(tries_query_answers_ok=True))
    card.set_tries(auth=0, signature=0)
    insert_card(card)
    tries = pcsc_gateway.pin_tries()
    assert (tries.auth, tries.signature) == (None, None)
    with pytest.raises(PinTriesUnknownError):
        pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN, confirm_last_try=True)
    with pytest.raises(PinTriesUnknownError):
        pcsc_gateway.read_signature_certificate(SIGN_PIN, confirm_last_try=True)
    assert verifies_sent(card) == 0


def test_a_wrong_pin_answered_6300_is_pin_wrong(
    pcsc_gateway: CardGateway, insert_card: InsertCard, test_card: TestCard
) -> None:
    card = make_card(test_card, quirks=CardQuirks(wrong_pin_without_counter=True))
    insert_card(card)
    with pytest.raises(WrongPinError) as info:
        pcsc_gateway.sign_with_auth_key(CHALLENGE, "0000")
    assert info.value.details["tries_left"] is None
    assert pcsc_gateway.pin_tries().auth == 2


def test_the_my_number_card_in_the_second_reader_is_the_default(
    pcsc_gateway: CardGateway,
    insert_card: InsertCard,
    test_card: TestCard,
    vpcd_readers: tuple[str, str],
) -> None:
    insert_card(VirtualOtherCard(), 0)
    card = make_card(test_card)
    insert_card(card, 1)
    assert pcsc_gateway.card_status().reader == vpcd_readers[1]
    result = pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert result.reader == vpcd_readers[1]
    verify(result.signature, result.certificate, CHALLENGE)


def test_no_my_number_card_in_two_readers_names_both(
    pcsc_gateway: CardGateway,
    insert_card: InsertCard,
    test_card: TestCard,
    vpcd_readers: tuple[str, str],
) -> None:
    insert_card(VirtualOtherCard(), 0)
    juki = make_card(test_card, token="JPKIAPICCTOKEN")
    insert_card(juki, 1)
    with pytest.raises(NotMyNumberCardError) as info:
        pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert info.value.details["readers"] == list(vpcd_readers)
    assert vpcd_readers[1] in info.value.message_ja and verifies_sent(juki) == 0


@pytest.fixture
def other_programs_transaction(
    card_slot: VpcdCardSlot, vpcd_readers: tuple[str, str]
) -> Iterator[Callable[[], None]]:
    """Another program connected shared to slot 0 and holding a PC/SC transaction; call the result to end it."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS
    hresult, handle, _ = scard.SCardConnect(
        context, vpcd_readers[0], scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    assert hresult == scard.SCARD_S_SUCCESS
    assert scard.SCardBeginTransaction(handle) == scard.SCARD_S_SUCCESS
    state: dict[str, Any] = {"open": True}

    def end() -> None:
        if state["open"]:
            state["open"] = False
            scard.SCardEndTransaction(handle, scard.SCARD_LEAVE_CARD)
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            scard.SCardReleaseContext(context)

    try:
        yield end
    finally:
        end()


@pytest.mark.parametrize("share_mode", ["exclusive", "shared"])
async def test_another_programs_transaction_is_reader_busy_not_a_timeout(
    pcscd: object,
    other_programs_transaction: Callable[[], None],
    share_mode: ShareMode,
) -> None:
    gateway = AsyncCardGateway(
        CardGateway(PcscBackend(share_mode=share_mode), operation_timeout_s=4, busy_timeout_s=0.5)
    )
    try:
        with pytest.raises(ReaderBusyError):
            await gateway.run(gateway.gateway.pin_tries)
        with pytest.raises(ReaderBusyError):  # still held: busy again, no worker piles up
            await gateway.run(gateway.gateway.pin_tries)
        other_programs_transaction()
        tries = await gateway.run(gateway.gateway.pin_tries)
        assert tries.auth == 3
    finally:
        gateway.close()


def test_short_reads_end_of_file_and_a_bare_token_through_pcscd(
    pcsc_gateway: CardGateway, insert_card: InsertCard, test_card: TestCard
) -> None:
    # read_limit 100: every certificate chunk comes back short (vpcd answers slowly, so not 3 bytes at a time here;
    # test_quirks_unit reads the header 1 and 3 bytes at a time).
    quirks = CardQuirks(read_limit=100, end_of_file_warning=True, token_length=15)
    insert_card(make_card(test_card, quirks=quirks))
    assert pcsc_gateway.card_status().token == "JPKIAPICCTOKEN2"
    assert pcsc_gateway.read_auth_certificate().der == test_card.auth_cert_der
    result = pcsc_gateway.sign_with_signature_key(CHALLENGE, SIGN_PIN)
    assert result.certificate == test_card.sign_cert_der
    verify(result.signature, result.certificate, CHALLENGE)


def test_an_rsa_1024_card_is_refused_before_the_pin(
    pcsc_gateway: CardGateway,
    insert_card: InsertCard,
    test_card: TestCard,
    rsa1024_card_options: dict[str, object],
) -> None:
    card = make_card(test_card, **rsa1024_card_options)
    insert_card(card)
    with pytest.raises(UnsupportedKeyError) as info:
        pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert info.value.details["key"] == "RSA 1024-bit" and verifies_sent(card) == 0
