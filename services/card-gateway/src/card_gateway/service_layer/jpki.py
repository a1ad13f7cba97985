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
        self, channel: CardChannel, *, deadline: float | None = None, timeout_s: float = 0.0
    ) -> None:
        self._channel = channel
        self._deadline = deadline
        self._timeout_s = timeout_s

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
        """Read the token EF of the selected JPKI AP (``JPKIAPICCTOKEN2`` on a My Number Card)."""
        self._select(Ef.TOKEN)
        response = self.send(apdu.read_binary(0, _TOKEN_LENGTH))
        if not response.ok:
            raise CardCommunicationError(f"READ BINARY token: SW {response.sw_hex}")
        return apdu.parse_token(response.data)

    def require_my_number_card(self) -> str:
        """Select the JPKI AP and check the token; raise NotMyNumberCardError for any other card."""
        if not self.select_jpki():
            raise NotMyNumberCardError()
        token = self.read_token()
        if token != apdu.MY_NUMBER_CARD_TOKEN:
            raise NotMyNumberCardError(token=token)
        return token

    def read_certificate(self, kind: PinKind, *, ca: bool = False) -> bytes:
        """Read a certificate EF (the signature certificate needs the signature PIN verified first)."""
        self._select(_CA_EF[kind] if ca else _CERT_EF[kind])
        first = self.send(apdu.read_binary(0, 4))
        if first.sw == Sw.SECURITY_NOT_SATISFIED:
            raise CardCommunicationError(f"the {kind.value} certificate needs the PIN first (SW 6982)")
        if not first.ok or len(first.data) < 4:
            raise CardCommunicationError(f"READ BINARY certificate header: SW {first.sw_hex}")
        total = apdu.certificate_length(first.data)
        if total > _MAX_FILE:
            raise CardCommunicationError(f"certificate length {total} is implausible")
        data = bytearray(first.data)
        while len(data) < total:
            chunk = self.send(apdu.read_binary(len(data), min(_READ_CHUNK, total - len(data))))
            if not chunk.ok or not chunk.data:
                raise CardCommunicationError(f"READ BINARY at {len(data)}: SW {chunk.sw_hex}")
            data += chunk.data
        return bytes(data[:total])

    def pin_tries(self, kind: PinKind) -> int:
        """Return the tries left for a PIN without spending one (VERIFY with no data); 0 means blocked."""
        self._select(_PIN_EF[kind])
        response = self.send(apdu.verify(None))
        if response.ok:
            return kind.max_tries
        tries = apdu.tries_left_from_sw(response.sw)
        if tries is None:
            raise CardCommunicationError(f"VERIFY (tries left): SW {response.sw_hex}")
        return tries

    def verify_pin(self, pin: Pin) -> None:
        """Send the PIN once; raise WrongPinError or PinBlockedError when the card refuses it."""
        self._select(_PIN_EF[pin.kind])
        response = self.send(apdu.verify(pin.apdu_bytes()))
        if response.ok:
            return
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
