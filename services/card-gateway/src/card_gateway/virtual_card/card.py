"""An in-memory JPKI card (My Number Card's 公的個人認証 AP) and a non-JPKI card, answering command APDUs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import rsa

from card_gateway.domain.apdu import JPKI_AID, MY_NUMBER_CARD_TOKEN, ApduFormatError, CommandApdu, Ef, Sw

# The contact ATR of a real My Number Card (OpenSC's card-jpki.c matches it).
MY_NUMBER_CARD_ATR = bytes.fromhex("3BE000FF8131FE4514")
# A T=0 card with two historical bytes: anything that is not a My Number Card.
OTHER_CARD_ATR = bytes.fromhex("3B021450")


class VirtualCard(Protocol):
    """What vpcd needs from a card: an ATR, power and reset events, and an APDU processor."""

    @property
    def atr(self) -> bytes:
        """Return the ATR."""
        ...

    def reset(self) -> None:
        """Power on, power off or reset: lose all volatile state."""
        ...

    def process(self, command: bytes) -> bytes:
        """Answer one command APDU with a response APDU."""
        ...


def _sw(sw: int, data: bytes = b"") -> bytes:
    """Return a response APDU."""
    return data + sw.to_bytes(2, "big")


def pkcs1_v15_sign(key: rsa.RSAPrivateKey, digest_info: bytes) -> bytes:
    """Add PKCS#1 v1.5 type-1 padding to ``digest_info`` and apply the private key, as the card does."""
    numbers = key.private_numbers()
    modulus = numbers.public_numbers.n
    size = (modulus.bit_length() + 7) // 8
    if len(digest_info) > size - 11:
        raise ValueError("DigestInfo too long for the key")
    encoded = b"\x00\x01" + b"\xff" * (size - 3 - len(digest_info)) + b"\x00" + digest_info
    return pow(int.from_bytes(encoded, "big"), numbers.d, modulus).to_bytes(size, "big")


@dataclass(frozen=True)
class CardQuirks:
    """Ways a card may answer differently from card.md (seen in other JPKI implementations); all off by default."""

    tries_query_answers_ok: bool = False
    """VERIFY without data answers ``90 00`` (no counter), even when the PIN is blocked."""
    wrong_pin_without_counter: bool = False
    """A wrong PIN answers ``63 00`` instead of ``63 Cx`` (the counter still goes down)."""
    read_limit: int | None = None
    """READ BINARY returns at most this many bytes (with ``90 00``), whatever Le asks for."""
    end_of_file_warning: bool = False
    """A READ BINARY that reaches the end of the file answers ``62 82`` (end of file reached) with its data."""
    token_length: int = 32
    """Size of the token EF (15 = the bare ``JPKIAPICCTOKEN2``, no padding)."""

    def __post_init__(self) -> None:
        if self.read_limit is not None and not 1 <= self.read_limit <= 256:
            raise ValueError("read_limit must be 1..256")
        if not 1 <= self.token_length <= 255:
            raise ValueError("token_length must be 1..255")


@dataclass
class _PinState:
    """One PIN EF: the value, its try counter and whether it is verified in this session."""

    value: bytes = field(repr=False)
    max_tries: int
    tries: int
    verified: bool = False


class VirtualJpkiCard:
    """A My Number Card's JPKI AP as card.md describes it; thread-safe, counters survive resets."""

    def __init__(
        self,
        *,
        auth_certificate: bytes,
        auth_key: rsa.RSAPrivateKey,
        sign_certificate: bytes,
        sign_key: rsa.RSAPrivateKey,
        auth_ca_certificate: bytes = b"",
        sign_ca_certificate: bytes = b"",
        auth_pin: str = "1234",
        sign_pin: str = "ABC123",
        auth_tries: int = 3,
        sign_tries: int = 5,
        token: str = MY_NUMBER_CARD_TOKEN,
        atr: bytes = MY_NUMBER_CARD_ATR,
        quirks: CardQuirks | None = None,
    ) -> None:
        self._atr = atr
        self.quirks = quirks or CardQuirks()
        self._lock = threading.RLock()
        token_file = token.encode("ascii").ljust(self.quirks.token_length, b" ")[: self.quirks.token_length]
        self._files: dict[int, bytes] = {
            Ef.TOKEN: token_file,
            Ef.AUTH_CERT: auth_certificate,
            Ef.AUTH_CA_CERT: auth_ca_certificate,
            Ef.SIGN_CERT: sign_certificate,
            Ef.SIGN_CA_CERT: sign_ca_certificate,
        }
        self._pins: dict[int, _PinState] = {
            Ef.AUTH_PIN: _PinState(auth_pin.encode("ascii"), 3, auth_tries),
            Ef.SIGN_PIN: _PinState(sign_pin.encode("ascii"), 5, sign_tries),
        }
        self._keys: dict[int, tuple[rsa.RSAPrivateKey, int]] = {
            Ef.AUTH_KEY: (auth_key, Ef.AUTH_PIN),
            Ef.SIGN_KEY: (sign_key, Ef.SIGN_PIN),
        }
        self._ap_selected = False
        self._current: int | None = None
        self.commands: list[CommandApdu] = []

    def __repr__(self) -> str:
        return f"VirtualJpkiCard(token={self._files[Ef.TOKEN].rstrip()!r}, tries={self.tries()})"

    @property
    def atr(self) -> bytes:
        """Return the ATR (a real My Number Card's by default)."""
        return self._atr

    def tries(self) -> dict[str, int]:
        """Return the try counters: ``{"auth": n, "signature": n}``."""
        with self._lock:
            return {"auth": self._pins[Ef.AUTH_PIN].tries, "signature": self._pins[Ef.SIGN_PIN].tries}

    def set_tries(self, *, auth: int | None = None, signature: int | None = None) -> None:
        """Set the try counters (tests: put a PIN one try from blocking, or blocked)."""
        with self._lock:
            if auth is not None:
                self._pins[Ef.AUTH_PIN].tries = auth
            if signature is not None:
                self._pins[Ef.SIGN_PIN].tries = signature

    def reset(self) -> None:
        """Lose the selected application, the selected file and every verified PIN (counters stay)."""
        with self._lock:
            self._ap_selected = False
            self._current = None
            for pin in self._pins.values():
                pin.verified = False

    def process(self, command: bytes) -> bytes:
        """Answer one command APDU."""
        with self._lock:
            try:
                apdu = CommandApdu.parse(command)
            except ApduFormatError:
                return _sw(Sw.WRONG_LENGTH)
            self.commands.append(apdu)
            if apdu.cla == 0x00:
                handler = {0xA4: self._select, 0xB0: self._read_binary, 0x20: self._verify}.get(apdu.ins)
            elif apdu.cla == 0x80:
                handler = {0x2A: self._compute_signature}.get(apdu.ins)
            else:
                return _sw(Sw.CLA_NOT_SUPPORTED)
            return handler(apdu) if handler else _sw(Sw.INS_NOT_SUPPORTED)

    def _select(self, apdu: CommandApdu) -> bytes:
        if apdu.p1 == 0x04:
            if apdu.data != JPKI_AID:
                return _sw(Sw.FILE_NOT_FOUND)
            self.reset()
            self._ap_selected = True
            return _sw(Sw.OK)
        if apdu.p1 == 0x02:
            if len(apdu.data) != 2:
                return _sw(Sw.WRONG_LENGTH)
            ef = int.from_bytes(apdu.data, "big")
            if not self._ap_selected or not (ef in self._files or ef in self._pins or ef in self._keys):
                return _sw(Sw.FILE_NOT_FOUND)
            self._current = ef
            return _sw(Sw.OK)
        return _sw(Sw.INCORRECT_P1P2)

    def _read_binary(self, apdu: CommandApdu) -> bytes:
        if self._current not in self._files:
            return _sw(Sw.COMMAND_NOT_ALLOWED)
        if self._current == Ef.SIGN_CERT and not self._pins[Ef.SIGN_PIN].verified:
            return _sw(Sw.SECURITY_NOT_SATISFIED)
        if apdu.le is None:
            return _sw(Sw.WRONG_LENGTH)
        content = self._files[self._current]
        offset = (apdu.p1 << 8) | apdu.p2
        if apdu.p1 & 0x80 or offset >= len(content):
            return _sw(Sw.WRONG_P1P2)
        length = min(apdu.le, self.quirks.read_limit or apdu.le)
        data = content[offset : offset + length]
        if self.quirks.end_of_file_warning and offset + len(data) >= len(content):
            return _sw(Sw.END_OF_FILE, data)
        return _sw(Sw.OK, data)

    def _verify(self, apdu: CommandApdu) -> bytes:
        if apdu.p1 != 0x00 or apdu.p2 != 0x80:
            return _sw(Sw.INCORRECT_P1P2)
        pin = self._pins.get(self._current) if self._current is not None else None
        if pin is None:
            return _sw(Sw.CONDITIONS_NOT_SATISFIED)
        if not apdu.data:
            if pin.verified or self.quirks.tries_query_answers_ok:
                return _sw(Sw.OK)
            return _sw(0x63C0 | pin.tries)
        if pin.tries == 0:
            return _sw(Sw.AUTH_METHOD_BLOCKED)
        if apdu.data == pin.value:
            pin.tries = pin.max_tries
            pin.verified = True
            return _sw(Sw.OK)
        pin.tries -= 1
        pin.verified = False
        if self.quirks.wrong_pin_without_counter:
            return _sw(Sw.VERIFICATION_FAILED)
        return _sw(0x63C0 | pin.tries)

    def _compute_signature(self, apdu: CommandApdu) -> bytes:
        if apdu.p1 != 0x00 or apdu.p2 != 0x80:
            return _sw(Sw.INCORRECT_P1P2)
        entry = self._keys.get(self._current) if self._current is not None else None
        if entry is None:
            return _sw(Sw.CONDITIONS_NOT_SATISFIED)
        key, pin_ef = entry
        if not self._pins[pin_ef].verified:
            return _sw(Sw.SECURITY_NOT_SATISFIED)
        try:
            signature = pkcs1_v15_sign(key, apdu.data)
        except ValueError:
            return _sw(Sw.WRONG_LENGTH)
        return _sw(Sw.OK, signature)


class VirtualOtherCard:
    """A card without a JPKI AP (a bank or transport card): every SELECT answers 6A82."""

    def __init__(self, *, atr: bytes = OTHER_CARD_ATR) -> None:
        self._atr = atr

    @property
    def atr(self) -> bytes:
        """Return the ATR."""
        return self._atr

    def reset(self) -> None:
        """Nothing to forget."""

    def process(self, command: bytes) -> bytes:
        """Answer 6A82 to SELECT and 6D00 to anything else."""
        if len(command) >= 2 and command[1] == 0xA4:
            return _sw(Sw.FILE_NOT_FOUND)
        return _sw(Sw.INS_NOT_SUPPORTED)
