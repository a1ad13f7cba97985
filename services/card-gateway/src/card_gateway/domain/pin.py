"""The two JPKI PINs and their rules, checked before anything is sent to the card."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from card_gateway.domain.errors import InvalidPinFormatError
from card_gateway.domain.models import PinKind

_AUTH_PIN = re.compile(r"[0-9]{4}", re.ASCII)
_SIGN_PIN = re.compile(r"[A-Z0-9]{6,16}", re.ASCII)


class Pin:
    """A PIN that passed the rules; its value never appears in ``repr``, ``str`` or logs."""

    __slots__ = ("_value", "kind")

    def __init__(self, kind: PinKind, value: str) -> None:
        self.kind = kind
        self._value = value

    def __repr__(self) -> str:
        return f"Pin(kind={self.kind.value}, value=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:
        raise TypeError("a PIN cannot be pickled")

    def apdu_bytes(self) -> bytes:
        """Return the PIN as the card expects it in VERIFY: ASCII, no padding."""
        return self._value.encode("ascii")


def parse_pin(kind: PinKind, value: str) -> Pin:
    """Check a PIN against the card's rules and return it; full-width input is normalised first."""
    normalised = unicodedata.normalize("NFKC", value)
    if kind is PinKind.AUTH:
        if not _AUTH_PIN.fullmatch(normalised):
            raise InvalidPinFormatError(kind, "数字4桁で入力してください", "it must be exactly 4 digits")
        return Pin(kind, normalised)
    if any("a" <= c <= "z" for c in normalised) and _SIGN_PIN.fullmatch(normalised.upper()):
        raise InvalidPinFormatError(
            kind, "英字は大文字で入力してください", "letters must be capital letters (A–Z)"
        )
    if not _SIGN_PIN.fullmatch(normalised):
        raise InvalidPinFormatError(
            kind,
            "英大文字（A〜Z）と数字（0〜9）を組み合わせて6〜16文字で入力してください",
            "it must be 6 to 16 characters of capital letters A–Z and digits 0–9",
        )
    if not any(c.isdigit() for c in normalised) or not any(c.isalpha() for c in normalised):
        raise InvalidPinFormatError(
            kind,
            "英字と数字をそれぞれ1文字以上含めてください",
            "it must contain at least one letter and at least one digit",
        )
    return Pin(kind, normalised)
