"""The JPKI AP protocol over a card channel: identify the card, read certificates, tries left, verify, sign."""

from __future__ import annotations

import logging
import time

from card_gateway.domain import apdu
from card_gateway.domain.apdu import ApduFormatError, CommandApdu, Ef, ResponseApdu, Sw
from card_gateway.domain.errors import (
    CardCommunicationError,
    NotMyNumberCardError,
    OperationTimeoutError,
    PinBlockedError,
    WrongPinError,
)
from card_gateway.domain.models import PinKind
from card_gateway.domain.pin import Pin
from card_gateway.service_layer.ports import CardChannel

log = logging.getLogger(__name__)

_CERT_EF = {PinKind.AUTH: Ef.AUTH_CERT, PinKind.SIGNATURE: Ef.SIGN_CERT}
_CA_EF = {PinKind.AUTH: Ef.AUTH_CA_CERT, PinKind.SIGNATURE: Ef.SIGN_CA_CERT}
_PIN_EF = {PinKind.AUTH: Ef.AUTH_PIN, PinKind.SIGNATURE: Ef.SIGN_PIN}
_KEY_EF = {PinKind.AUTH: Ef.AUTH_KEY, PinKind.SIGNATURE: Ef.SIGN_KEY}
_TOKEN_LENGTH = 0x20
_READ_CHUNK = 0xFF
_MAX_FILE = 0x2000


class JpkiSession:
    """Talks to the JPKI AP of one connected card; checks the operation's deadline before every APDU."""

    def __init__(
        self,
        channel: CardChannel,
        *,
        deadline: float | None = None,
        timeout_s: float = 0.0,
        reader: str | None = None,
    ) -> None:
        self._channel = channel
        self._deadline = deadline
        self._timeout_s = timeout_s
        self.reader = reader

    @property
    def atr(self) -> bytes:
        """Return the ATR of the connected card."""
        return self._channel.atr

    def send(self, command: CommandApdu) -> ResponseApdu:
        """Send one command; follow 61xx (GET RESPONSE) and 6Cxx (wrong Le) like a T=0 host must."""
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise OperationTimeoutError(self._timeout_s)
        response = self._transmit(command)
        if response.sw >> 8 == 0x6C and command.le is not None:
            retry = CommandApdu(
                command.cla, command.ins, command.p1, command.p2, command.data, response.sw & 0xFF or 256
            )
            response = self._transmit(retry)
        data = response.data
        while response.sw >> 8 == 0x61:
            get_response = CommandApdu(0x00, 0xC0, 0x00, 0x00, le=response.sw & 0xFF or 256)
            response = self._transmit(get_response)
            data += response.data
        log.debug("APDU %s -> %d bytes %s", command.redacted(), len(data), response.sw_hex)
        return ResponseApdu(data, response.sw)

    def _transmit(self, command: CommandApdu) -> ResponseApdu:
        """Send one APDU as is and parse the answer."""
        raw = self._channel.transmit(command.to_bytes())
        try:
            return ResponseApdu.parse(raw)
        except ApduFormatError as exc:
            raise CardCommunicationError(f"{command.redacted()}: {exc}") from None

    def select_jpki(self) -> bool:
        """Select the JPKI AP; return whether the card has one (this also clears any verified PIN)."""
        return self.send(apdu.select_application()).ok

    def read_token(self) -> str:
        """Read the token EF of the selected JPKI AP (``JPKIAPICCTOKEN2`` on a My Number Card); short reads read on."""
        self._select(Ef.TOKEN)
        return apdu.parse_token(self._read_up_to(_TOKEN_LENGTH, "token"))

    def require_my_number_card(self) -> str:
        """Select the JPKI AP and check the token; raise NotMyNumberCardError for any other card."""
        if not self.select_jpki():
            raise NotMyNumberCardError(self.reader)
        token = self.read_token()
        if token != apdu.MY_NUMBER_CARD_TOKEN:
            raise NotMyNumberCardError(self.reader, token=token)
        return token

    def read_certificate(self, kind: PinKind, *, ca: bool = False) -> bytes:
        """Read a certificate EF (the signature certificate needs the signature PIN verified first)."""
        self._select(_CA_EF[kind] if ca else _CERT_EF[kind])
        what = f"{kind.value} certificate"
        header = self._read_up_to(4, what)
        if len(header) < 4:
            raise CardCommunicationError(f"the {what} ends after {len(header)} bytes")
        total = apdu.certificate_length(header)
        if total > _MAX_FILE:
            raise CardCommunicationError(f"certificate length {total} is implausible")
        data = self._read_up_to(total, what, start=header)
        if len(data) < total:
            raise CardCommunicationError(f"the {what} ends after {len(data)} of {total} bytes")
        return data

    def _read_up_to(self, size: int, what: str, *, start: bytes = b"") -> bytes:
        """READ BINARY from ``len(start)`` until ``size`` bytes or the end of the file; short answers read on.

        ``62 82`` (end of file reached) and an empty answer end the file; ``6B00`` past the first byte does too.
        """
        data = bytearray(start)
        while len(data) < size:
            offset = len(data)
            response = self.send(apdu.read_binary(offset, min(_READ_CHUNK, size - offset)))
            if response.sw == Sw.SECURITY_NOT_SATISFIED:
                raise CardCommunicationError(f"the {what} needs the PIN first (SW 6982)")
            if response.sw == Sw.WRONG_P1P2 and offset > 0:
                break
            if response.sw not in (Sw.OK, Sw.END_OF_FILE):
                raise CardCommunicationError(f"READ BINARY {what} at {offset}: SW {response.sw_hex}")
            data += response.data
            if response.sw == Sw.END_OF_FILE or not response.data:
                break
        return bytes(data[:size])

    def pin_tries(self, kind: PinKind) -> int | None:
        """Return the tries left without spending one (VERIFY with no data): 0 = blocked, None = unknown.

        Only ``63 Cx`` (and the blocked forms ``6983``/``6984``) carry a count; ``90 00`` or anything else says
        nothing about it, so it is unknown, never "all tries left" (OpenSC's JPKI driver also accepts only 63xx).
        """
        self._select(_PIN_EF[kind])
        response = self.send(apdu.verify(None))
        tries = apdu.tries_left_from_sw(response.sw)
        if tries is None:
            log.warning("the card did not report the %s PIN tries left (SW %s)", kind.value, response.sw_hex)
        return tries

    def verify_pin(self, pin: Pin) -> None:
        """Send the PIN once; raise WrongPinError (tries left, or None for ``63 00``) or PinBlockedError."""
        self._select(_PIN_EF[pin.kind])
        response = self.send(apdu.verify(pin.apdu_bytes()))
        if response.ok:
            return
        if response.sw == Sw.VERIFICATION_FAILED:
            raise WrongPinError(pin.kind, None)
        tries = apdu.tries_left_from_sw(response.sw)
        if tries is None:
            raise CardCommunicationError(f"VERIFY: SW {response.sw_hex}")
        if tries == 0:
            raise PinBlockedError(pin.kind)
        raise WrongPinError(pin.kind, tries)

    def sign(self, kind: PinKind, digest_info: bytes) -> bytes:
        """Sign a DER DigestInfo with the key of ``kind`` (its PIN must have been verified in this session)."""
        self._select(_KEY_EF[kind])
        response = self.send(apdu.compute_signature(digest_info))
        if not response.ok:
            raise CardCommunicationError(f"COMPUTE SIGNATURE: SW {response.sw_hex}")
        if len(response.data) != 256:
            raise CardCommunicationError(
                f"COMPUTE SIGNATURE returned {len(response.data)} bytes, expected 256"
            )
        return response.data

    def _select(self, ef: int) -> None:
        """Select an EF of the JPKI AP."""
        response = self.send(apdu.select_ef(ef))
        if not response.ok:
            raise CardCommunicationError(f"SELECT EF {ef:04X}: SW {response.sw_hex}")
