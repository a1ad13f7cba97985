"""Through the real pcscd and vsmartcard's vpcd, against the virtual card: every operation and every error."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from smartcard import scard

from card_gateway.adapters.pcsc import PcscBackend
from card_gateway.config import CardGatewaySettings
from card_gateway.domain.errors import (
    CardRemovedError,
    LastTryConfirmationRequiredError,
    NoCardError,
    NoReaderError,
    NotMyNumberCardError,
    OperationTimeoutError,
    PinBlockedError,
    ReaderBusyError,
    WrongPinError,
)
from card_gateway.main import create_app
from card_gateway.service_layer.gateway import AsyncCardGateway, CardGateway
from card_gateway.virtual_card import VirtualCard, VirtualJpkiCard, VirtualOtherCard, VpcdCardSlot
from shared.testing.jpki import TestCard
from tests.card_gateway.conftest import AUTH_PIN, SIGN_PIN, make_card, wait_for_card
from tests.card_gateway.test_gateway_unit import verifies_sent, verify

pytestmark = pytest.mark.integration

CHALLENGE = bytes(range(64))
InsertCard = Callable[[VirtualCard], VpcdCardSlot]


def test_lists_both_vpcd_readers_and_the_card(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, vpcd_readers: tuple[str, str]
) -> None:
    readers = {r.name: r for r in pcsc_gateway.list_readers()}
    assert readers[vpcd_readers[0]].card_present and not readers[vpcd_readers[1]].card_present
    assert readers[vpcd_readers[0]].atr == bytes.fromhex("3BE000FF8131FE4514")


def test_recognises_the_my_number_card_by_token(pcsc_gateway: CardGateway, card_slot: VpcdCardSlot) -> None:
    status = pcsc_gateway.card_status()
    assert status.my_number_card and status.token == "JPKIAPICCTOKEN2"


def test_reads_the_auth_certificate(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, test_card: TestCard
) -> None:
    assert pcsc_gateway.read_auth_certificate().der == test_card.auth_cert_der


def test_reads_tries_left_without_spending_one(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, virtual_card: VirtualJpkiCard
) -> None:
    for _ in range(2):
        tries = pcsc_gateway.pin_tries()
        assert (tries.auth, tries.signature) == (3, 5)
    assert virtual_card.tries() == {"auth": 3, "signature": 5} and verifies_sent(virtual_card) == 0


def test_auth_signature_verifies_with_the_certificate_key(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, test_card: TestCard
) -> None:
    result = pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert result.certificate == test_card.auth_cert_der
    verify(result.signature, result.certificate, CHALLENGE)


def test_signature_key_and_certificate(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, test_card: TestCard
) -> None:
    result = pcsc_gateway.sign_with_signature_key(CHALLENGE, SIGN_PIN)
    assert result.certificate == test_card.sign_cert_der
    verify(result.signature, result.certificate, CHALLENGE)
    assert pcsc_gateway.read_signature_certificate(SIGN_PIN).der == test_card.sign_cert_der


def test_each_operation_resets_the_card_so_no_pin_stays_verified(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot
) -> None:
    pcsc_gateway.read_signature_certificate(SIGN_PIN)
    backend = PcscBackend()
    with backend.connect(pcsc_gateway.card_status().reader, busy_timeout=1) as channel:
        for command in ("00A4040C0AD392F000260100000001", "00A4020C020001"):
            channel.transmit(bytes.fromhex(command))
        assert channel.transmit(bytes.fromhex("00B0000004"))[-2:] == b"\x69\x82"


def test_a_wrong_pin_decreases_tries_and_a_right_one_restores_them(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, virtual_card: VirtualJpkiCard
) -> None:
    with pytest.raises(WrongPinError) as info:
        pcsc_gateway.sign_with_auth_key(CHALLENGE, "0000")
    assert info.value.details["tries_left"] == 2
    assert pcsc_gateway.pin_tries().auth == 2
    with pytest.raises(WrongPinError):
        pcsc_gateway.sign_with_signature_key(CHALLENGE, "WRONG9")
    assert pcsc_gateway.pin_tries().signature == 4
    pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert pcsc_gateway.pin_tries().auth == 3


def test_refuses_the_last_try_without_confirmation(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, virtual_card: VirtualJpkiCard, test_card: TestCard
) -> None:
    virtual_card.set_tries(auth=1)
    with pytest.raises(LastTryConfirmationRequiredError):
        pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    assert verifies_sent(virtual_card) == 0
    result = pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN, confirm_last_try=True)
    verify(result.signature, test_card.auth_cert_der, CHALLENGE)
    assert virtual_card.tries()["auth"] == 3


def test_a_wrong_last_try_blocks_the_pin(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, virtual_card: VirtualJpkiCard
) -> None:
    virtual_card.set_tries(signature=1)
    with pytest.raises(PinBlockedError):
        pcsc_gateway.sign_with_signature_key(CHALLENGE, "WRONG9", confirm_last_try=True)
    assert pcsc_gateway.pin_tries().signature == 0
    sent = verifies_sent(virtual_card)
    with pytest.raises(PinBlockedError):
        pcsc_gateway.read_signature_certificate(SIGN_PIN, confirm_last_try=True)
    assert verifies_sent(virtual_card) == sent


def test_other_cards_are_not_my_number_cards(
    pcsc_gateway: CardGateway, insert_card: InsertCard, test_card: TestCard
) -> None:
    insert_card(VirtualOtherCard())
    status = pcsc_gateway.card_status()
    assert not status.my_number_card and not status.jpki_application
    with pytest.raises(NotMyNumberCardError):
        pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)


def test_an_old_juki_card_is_not_a_my_number_card(
    pcsc_gateway: CardGateway, insert_card: InsertCard, test_card: TestCard
) -> None:
    insert_card(make_card(test_card, token="JPKIAPICCTOKEN"))
    with pytest.raises(NotMyNumberCardError) as info:
        pcsc_gateway.pin_tries()
    assert info.value.details["token"] == "JPKIAPICCTOKEN"


def test_no_card_and_no_reader(pcsc_gateway: CardGateway, vpcd_readers: tuple[str, str]) -> None:
    with pytest.raises(NoCardError):
        pcsc_gateway.card_status()
    with pytest.raises(NoCardError):
        pcsc_gateway.card_status(vpcd_readers[1])
    with pytest.raises(NoReaderError):
        pcsc_gateway.card_status("No Such Reader 00 00")


def test_removal_mid_operation_ends_it_cleanly_and_the_next_call_reconnects(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, test_card: TestCard, vpcd_readers: tuple[str, str]
) -> None:
    card_slot.remove_on(lambda command: command.ins == 0x2A)
    with pytest.raises(CardRemovedError):
        pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN)
    wait_for_card(vpcd_readers[0], present=False)
    with pytest.raises(NoCardError):
        pcsc_gateway.pin_tries()
    card_slot.insert()
    wait_for_card(vpcd_readers[0], present=True)
    verify(pcsc_gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN).signature, test_card.auth_cert_der, CHALLENGE)


def test_another_program_holding_the_card_makes_the_reader_busy(
    pcsc_gateway: CardGateway, card_slot: VpcdCardSlot, vpcd_readers: tuple[str, str]
) -> None:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS
    hresult, handle, _ = scard.SCardConnect(
        context,
        vpcd_readers[0],
        scard.SCARD_SHARE_EXCLUSIVE,
        scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
    )
    assert hresult == scard.SCARD_S_SUCCESS
    try:
        # The other program still holds the reader here: busy is answered while it does, not after it lets go.
        with pytest.raises(ReaderBusyError):
            pcsc_gateway.pin_tries()
    finally:
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
        scard.SCardReleaseContext(context)
    assert pcsc_gateway.pin_tries().auth == 3


def test_two_callers_on_one_reader_are_serialised(pcsc_gateway: CardGateway, card_slot: VpcdCardSlot) -> None:
    card_slot.delay_on(lambda command: command.ins == 0xA4 and command.p1 == 0x04, 1.5)
    first = threading.Thread(target=pcsc_gateway.pin_tries)
    first.start()
    time.sleep(0.3)
    try:
        with pytest.raises(ReaderBusyError):
            pcsc_gateway.card_status()
    finally:
        first.join()
    assert pcsc_gateway.card_status().my_number_card


def test_a_slow_card_times_out(pcscd: object, card_slot: VpcdCardSlot) -> None:
    gateway = CardGateway(PcscBackend(), operation_timeout_s=0.5)
    card_slot.delay_on(lambda command: command.ins == 0xA4 and command.p1 == 0x04, 1.0)
    with pytest.raises(OperationTimeoutError):
        gateway.pin_tries()


async def test_a_stuck_signature_times_out_for_the_caller(pcscd: object, card_slot: VpcdCardSlot) -> None:
    gateway = AsyncCardGateway(CardGateway(PcscBackend(), operation_timeout_s=0.5))
    card_slot.delay_on(lambda command: command.ins == 0x2A, 1.5)
    # Had the caller waited for the card, the signature would have come back instead of the time-out.
    with pytest.raises(OperationTimeoutError):
        await gateway.run(lambda: gateway.gateway.sign_with_auth_key(CHALLENGE, AUTH_PIN))
    gateway.close()
    await asyncio.sleep(1.2)  # let the worker finish with the card before the slot is removed


async def test_the_http_api_signs_through_pcscd(
    pcscd: object, card_slot: VpcdCardSlot, virtual_card: VirtualJpkiCard
) -> None:
    web = "https://ras.example.go.jp"
    app = create_app(CardGatewaySettings(allowed_origins=[web], operation_timeout_s=10))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1:17980", headers={"Origin": web}
    ) as client:
        assert (await client.get("/ready")).json()["checks"]["pcsc"] == "ok"
        body = {"challenge": base64.b64encode(CHALLENGE).decode(), "pin": AUTH_PIN}
        response = await client.post("/card/auth-signature", json=body)
        assert response.status_code == 200, response.text
        signed = response.json()
        verify(base64.b64decode(signed["signature"]), base64.b64decode(signed["certificate"]), CHALLENGE)
        wrong = await client.post("/card/auth-signature", json={**body, "pin": "0000"})
        assert wrong.status_code == 403 and wrong.json()["tries_left"] == 2
        refused = await client.get("/card", headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403 and refused.json()["code"] == "origin.not_allowed"
    app.state.gateway.close()
