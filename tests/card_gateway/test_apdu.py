"""APDU building and parsing, status words and certificate lengths."""

from __future__ import annotations

import hashlib

import pytest

from card_gateway.domain import apdu
from card_gateway.domain.apdu import ApduFormatError, CommandApdu, Ef, ResponseApdu

pytestmark = pytest.mark.unit


def test_selects_the_jpki_ap_by_aid_without_fci() -> None:
    assert apdu.select_application().to_bytes().hex().upper() == "00A4040C0AD392F000260100000001"


def test_selects_an_ef_by_file_id() -> None:
    assert apdu.select_ef(Ef.SIGN_PIN).to_bytes() == bytes.fromhex("00A4020C02001B")


def test_read_binary_encodes_offset_and_le_256_as_00() -> None:
    assert apdu.read_binary(0x0104, 0xFF).to_bytes() == bytes.fromhex("00B00104FF")
    assert apdu.read_binary(0, 256).to_bytes() == bytes.fromhex("00B0000000")


def test_read_binary_refuses_offsets_beyond_15_bits() -> None:
    with pytest.raises(ApduFormatError):
        apdu.read_binary(0x8000, 1)


def test_verify_without_data_only_asks_for_tries() -> None:
    assert apdu.verify(None).to_bytes() == bytes.fromhex("00200080")
    assert apdu.verify(b"1234").to_bytes() == bytes.fromhex("002000800431323334")


def test_compute_signature_sends_the_digest_info_with_le() -> None:
    info = apdu.sha256_digest_info(b"challenge")
    raw = apdu.compute_signature(info).to_bytes()
    assert raw[:5] == bytes.fromhex("802A008033") and raw[5:-1] == info and raw[-1] == 0


def test_sha256_digest_info_is_51_bytes_with_the_der_prefix() -> None:
    info = apdu.sha256_digest_info(b"abc")
    assert len(info) == 51
    assert info == bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(b"abc").digest()


@pytest.mark.parametrize(
    "raw",
    [
        "00A4040C0AD392F000260100000001",
        "00B0000004",
        "00200080",
        "002000800431323334",
        "802A0080023031" + "00",
    ],
)
def test_parses_every_short_apdu_case_back(raw: str) -> None:
    assert CommandApdu.parse(bytes.fromhex(raw)).to_bytes().hex().upper() == raw.upper()


@pytest.mark.parametrize("raw", ["00A4", "00A4040C05D392", "00A404000000010203"])
def test_refuses_malformed_and_extended_apdus(raw: str) -> None:
    with pytest.raises(ApduFormatError):
        CommandApdu.parse(bytes.fromhex(raw))


def test_redacts_the_pin_of_verify_but_not_other_commands() -> None:
    assert "31 32 33 34" not in apdu.verify(b"1234").redacted()
    assert "<4 bytes redacted>" in apdu.verify(b"1234").redacted()
    assert apdu.select_ef(Ef.TOKEN).redacted() == "00 A4 02 0C 02 00 06"


def test_response_splits_data_and_status_word() -> None:
    response = ResponseApdu.parse(bytes.fromhex("0102039000"))
    assert response.data == b"\x01\x02\x03" and response.ok and response.sw_hex == "9000"
    with pytest.raises(ApduFormatError):
        ResponseApdu.parse(b"\x90")


@pytest.mark.parametrize(
    ("sw", "tries"),
    [(0x63C3, 3), (0x63C1, 1), (0x63C0, 0), (0x6983, 0), (0x6984, 0), (0x9000, None), (0x6A82, None)],
)
def test_reads_tries_left_from_status_words(sw: int, tries: int | None) -> None:
    assert apdu.tries_left_from_sw(sw) == tries


def test_certificate_length_comes_from_the_der_header() -> None:
    assert apdu.certificate_length(bytes.fromhex("308203AC")) == 0x3AC + 4
    assert apdu.certificate_length(bytes.fromhex("3081F000")) == 0xF0 + 3
    with pytest.raises(ApduFormatError):
        apdu.certificate_length(bytes.fromhex("04820000"))


def test_token_is_trimmed_of_padding() -> None:
    assert apdu.parse_token(b"JPKIAPICCTOKEN2".ljust(32, b" ")) == "JPKIAPICCTOKEN2"
