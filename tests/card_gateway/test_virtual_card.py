"""The virtual JPKI card answers as card.md describes (no pcscd needed)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from card_gateway.domain import apdu
from card_gateway.domain.apdu import Ef, ResponseApdu
from card_gateway.virtual_card import CardQuirks, VirtualJpkiCard, VirtualOtherCard
from shared.testing.jpki import TestCard, sign_digest_info
from tests.card_gateway.conftest import make_card

pytestmark = pytest.mark.unit


def send(card: VirtualJpkiCard | VirtualOtherCard, command: apdu.CommandApdu) -> ResponseApdu:
    return ResponseApdu.parse(card.process(command.to_bytes()))


def select(card: VirtualJpkiCard, ef: int) -> None:
    assert send(card, apdu.select_ef(ef)).ok


def test_selects_the_jpki_ap_and_reads_the_padded_token(virtual_card: VirtualJpkiCard) -> None:
    assert send(virtual_card, apdu.select_application()).ok
    select(virtual_card, Ef.TOKEN)
    response = send(virtual_card, apdu.read_binary(0, 32))
    assert response.data == b"JPKIAPICCTOKEN2" + b" " * 17


def test_refuses_an_ef_before_the_ap_is_selected_and_unknown_aids(virtual_card: VirtualJpkiCard) -> None:
    assert send(virtual_card, apdu.select_ef(Ef.TOKEN)).sw == 0x6A82
    assert send(virtual_card, apdu.select_application(bytes.fromhex("D3921000310001010408"))).sw == 0x6A82


def test_reads_a_certificate_in_chunks_with_offsets(
    virtual_card: VirtualJpkiCard, test_card: TestCard
) -> None:
    send(virtual_card, apdu.select_application())
    select(virtual_card, Ef.AUTH_CERT)
    header = send(virtual_card, apdu.read_binary(0, 4)).data
    total = apdu.certificate_length(header)
    data = b""
    while len(data) < total:
        data += send(virtual_card, apdu.read_binary(len(data), min(256, total - len(data)))).data
    assert data == test_card.auth_cert_der
    assert send(virtual_card, apdu.read_binary(total, 1)).sw == 0x6B00


def test_signature_certificate_needs_the_signature_pin(virtual_card: VirtualJpkiCard) -> None:
    send(virtual_card, apdu.select_application())
    select(virtual_card, Ef.SIGN_CERT)
    assert send(virtual_card, apdu.read_binary(0, 4)).sw == 0x6982
    select(virtual_card, Ef.SIGN_PIN)
    assert send(virtual_card, apdu.verify(b"ABC123")).ok
    select(virtual_card, Ef.SIGN_CERT)
    assert send(virtual_card, apdu.read_binary(0, 4)).ok


def test_verify_without_data_reports_tries_and_spends_none(virtual_card: VirtualJpkiCard) -> None:
    send(virtual_card, apdu.select_application())
    select(virtual_card, Ef.AUTH_PIN)
    assert send(virtual_card, apdu.verify(None)).sw == 0x63C3
    assert send(virtual_card, apdu.verify(None)).sw == 0x63C3
    select(virtual_card, Ef.SIGN_PIN)
    assert send(virtual_card, apdu.verify(None)).sw == 0x63C5


def test_wrong_pins_count_down_then_block_and_a_right_pin_resets(virtual_card: VirtualJpkiCard) -> None:
    send(virtual_card, apdu.select_application())
    select(virtual_card, Ef.AUTH_PIN)
    assert send(virtual_card, apdu.verify(b"0000")).sw == 0x63C2
    assert send(virtual_card, apdu.verify(b"1234")).ok
    assert virtual_card.tries()["auth"] == 3
    for expected in (0x63C2, 0x63C1, 0x63C0):
        assert send(virtual_card, apdu.verify(b"0000")).sw == expected
    assert send(virtual_card, apdu.verify(b"1234")).sw == 0x6983
    assert send(virtual_card, apdu.verify(None)).sw == 0x63C0


def test_signs_digest_info_with_pkcs1_padding_after_the_pin(
    virtual_card: VirtualJpkiCard, test_card: TestCard
) -> None:
    info = apdu.sha256_digest_info(b"c" * 32)
    send(virtual_card, apdu.select_application())
    select(virtual_card, Ef.AUTH_KEY)
    assert send(virtual_card, apdu.compute_signature(info)).sw == 0x6982
    select(virtual_card, Ef.AUTH_PIN)
    send(virtual_card, apdu.verify(b"1234"))
    select(virtual_card, Ef.AUTH_KEY)
    response = send(virtual_card, apdu.compute_signature(info))
    assert response.ok and len(response.data) == 256
    assert response.data == sign_digest_info(test_card.auth_key, info)
    test_card.auth_key.public_key().verify(response.data, b"c" * 32, padding.PKCS1v15(), hashes.SHA256())


def test_reselecting_the_ap_or_a_reset_forgets_the_verified_pin(virtual_card: VirtualJpkiCard) -> None:
    info = apdu.sha256_digest_info(b"x")
    for forget in (lambda: send(virtual_card, apdu.select_application()), virtual_card.reset):
        send(virtual_card, apdu.select_application())
        select(virtual_card, Ef.SIGN_PIN)
        send(virtual_card, apdu.verify(b"ABC123"))
        forget()
        send(virtual_card, apdu.select_application())
        select(virtual_card, Ef.SIGN_KEY)
        assert send(virtual_card, apdu.compute_signature(info)).sw == 0x6982


def test_a_card_without_the_jpki_ap_answers_6a82() -> None:
    card = VirtualOtherCard()
    assert send(card, apdu.select_application()).sw == 0x6A82
    assert send(card, apdu.read_binary(0, 4)).sw == 0x6D00


def test_unknown_instructions_and_classes_are_refused(virtual_card: VirtualJpkiCard) -> None:
    assert ResponseApdu.parse(virtual_card.process(bytes.fromhex("00CA004F00"))).sw == 0x6D00
    assert ResponseApdu.parse(virtual_card.process(bytes.fromhex("A0A4000002"))).sw == 0x6E00


def test_quirks_answer_like_the_cards_they_copy(test_card: TestCard) -> None:
    card = make_card(
        test_card,
        quirks=CardQuirks(
            tries_query_answers_ok=True,
            wrong_pin_without_counter=True,
            read_limit=3,
            end_of_file_warning=True,
            token_length=15,
        ),
    )
    send(card, apdu.select_application())
    select(card, Ef.AUTH_PIN)
    card.set_tries(auth=0)
    assert send(card, apdu.verify(None)).sw == 0x9000
    card.set_tries(auth=3)
    assert send(card, apdu.verify(b"0000")).sw == 0x6300 and card.tries()["auth"] == 2
    select(card, Ef.TOKEN)
    assert send(card, apdu.read_binary(0, 32)) == ResponseApdu(b"JPK", 0x9000)
    assert send(card, apdu.read_binary(13, 32)) == ResponseApdu(b"N2", 0x6282)
    select(card, Ef.AUTH_CERT)
    assert send(card, apdu.read_binary(0, 4)).data == test_card.auth_cert_der[:3]


def test_quirks_refuse_impossible_settings() -> None:
    with pytest.raises(ValueError, match="read_limit"):
        CardQuirks(read_limit=0)
    with pytest.raises(ValueError, match="token_length"):
        CardQuirks(token_length=0)
