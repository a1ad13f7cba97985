"""PIN rules: checked before anything is sent, and a PIN never shows in repr."""

from __future__ import annotations

import pickle

import pytest

from card_gateway.domain.errors import InvalidPinFormatError
from card_gateway.domain.models import PinKind
from card_gateway.domain.pin import parse_pin

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["0000", "1234", "９８７６"])
def test_accepts_four_digit_auth_pins_including_full_width_digits(value: str) -> None:
    assert parse_pin(PinKind.AUTH, value).apdu_bytes().isdigit()


@pytest.mark.parametrize("value", ["", "123", "12345", "12a4", " 1234", "١٢٣٤"])
def test_refuses_auth_pins_that_are_not_four_ascii_digits(value: str) -> None:
    with pytest.raises(InvalidPinFormatError) as info:
        parse_pin(PinKind.AUTH, value)
    assert info.value.code == "pin.invalid_format"
    assert "数字4桁" in info.value.message_ja and "4 digits" in info.value.message_en


@pytest.mark.parametrize("value", ["ABC123", "A1B2C3D4E5F6G7H8", "ＡＢＣ１２３"])
def test_accepts_signature_pins_of_capitals_and_digits(value: str) -> None:
    assert parse_pin(PinKind.SIGNATURE, value).apdu_bytes() in (b"ABC123", b"A1B2C3D4E5F6G7H8")


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("AB123", "6 to 16"),
        ("A1B2C3D4E5F6G7H8I", "6 to 16"),
        ("ABC-123", "6 to 16"),
        ("abc123", "capital letters"),
        ("ABCDEF", "at least one letter and at least one digit"),
        ("123456", "at least one letter and at least one digit"),
    ],
)
def test_refuses_signature_pins_that_break_the_rules(value: str, rule: str) -> None:
    with pytest.raises(InvalidPinFormatError) as info:
        parse_pin(PinKind.SIGNATURE, value)
    assert rule in info.value.message_en
    assert value not in info.value.message_en and value not in info.value.message_ja


def test_a_pin_never_shows_its_value() -> None:
    pin = parse_pin(PinKind.AUTH, "4711")
    assert "4711" not in repr(pin) and "4711" not in str(pin) and "4711" not in f"{pin}"
    with pytest.raises(TypeError):
        pickle.dumps(pin)
