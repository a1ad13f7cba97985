"""PC/SC through pyscard's low-level ``smartcard.scard`` API: the only code of the project that imports pyscard.

A fresh context per call (survives pcscd restarts and sees readers come and go), exclusive connect retried for a short
while (another program using the card gives ``reader.busy``), one transaction per operation, and the card reset on
disconnect in ``finally`` (clears the verified PIN; an undisconnected handle would block the reader).

Connecting and beginning the transaction run in a worker thread bounded by the busy timeout: while another program
holds a PC/SC transaction on the card, pcsc-lite makes SCardConnect and SCardBeginTransaction wait for as long as that
transaction lasts, and neither call can be interrupted. The caller gets ``reader.busy`` after the busy timeout; the
worker is left to finish and then disconnects without touching the card (no reset: it is the other program's card
session) — and while it waits, further calls on that reader are ``reader.busy`` at once.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from smartcard import scard

from card_gateway.adapters.bounded import AbandonedCallTracker
from card_gateway.domain.errors import (
    CardCommunicationError,
    CardGatewayError,
    CardRemovedError,
    NoCardError,
    NoReaderError,
    PcscUnavailableError,
    ReaderBusyError,
)
from card_gateway.domain.models import ReaderInfo

log = logging.getLogger(__name__)

ShareMode = Literal["exclusive", "shared"]

_U32 = 0xFFFFFFFF
_NO_SERVICE = {scard.SCARD_E_NO_SERVICE & _U32, scard.SCARD_E_SERVICE_STOPPED & _U32, 0x8010001D}
_REMOVED = {
    scard.SCARD_W_REMOVED_CARD & _U32,
    scard.SCARD_E_NO_SMARTCARD & _U32,
    scard.SCARD_W_RESET_CARD & _U32,
    scard.SCARD_W_UNPOWERED_CARD & _U32,
}
_NO_READER = {scard.SCARD_E_UNKNOWN_READER & _U32, scard.SCARD_E_READER_UNAVAILABLE & _U32}
_SHARING_VIOLATION = scard.SCARD_E_SHARING_VIOLATION & _U32
_NO_READERS = scard.SCARD_E_NO_READERS_AVAILABLE & _U32
_BUSY_POLL_S = 0.1
_REMOVAL_SETTLE_S = 1.5
_PCSCLITE_ABSENT, _PCSCLITE_PRESENT = 0x0002, 0x0004
# How much longer than the busy timeout a connect may take before the caller stops waiting (a normal connect
# with a card that answers takes milliseconds; only a wait for another program's transaction takes longer).
CONNECT_GRACE_S = 0.5


def _code(hresult: int) -> int:
    """Normalise a pyscard HRESULT to an unsigned 32-bit value."""
    return int(hresult) & _U32


def _describe(hresult: int) -> str:
    """Return ``0x8010xxxx: message`` for logs and error details."""
    return f"0x{_code(hresult):08X}: {scard.SCardGetErrorMessage(hresult)}"


def _absent(state: int) -> bool:
    """Read SCardStatus' state: a bit mask in pcsc-lite, an ordinal on Windows (1 = absent)."""
    if sys.platform == "win32":
        return state <= 1
    return bool(state & _PCSCLITE_ABSENT) or not state & _PCSCLITE_PRESENT


def _check_service(hresult: int, action: str) -> None:
    """Raise PcscUnavailableError when the PC/SC service itself is gone."""
    if _code(hresult) in _NO_SERVICE:
        raise PcscUnavailableError(f"{action}: {_describe(hresult)}")


@dataclass
class _Connection:
    """A PC/SC context with a connected card inside a transaction."""

    context: Any
    handle: Any
    protocol: int
    atr: bytes


def _close(connection: _Connection, disposition: int) -> None:
    """End the transaction, disconnect with ``disposition`` and release the context."""
    scard.SCardEndTransaction(connection.handle, scard.SCARD_LEAVE_CARD)
    hresult = scard.SCardDisconnect(connection.handle, disposition)
    if hresult != scard.SCARD_S_SUCCESS:
        log.debug("disconnect: %s", _describe(hresult))
    scard.SCardReleaseContext(connection.context)


class PcscChannel:
    """One connected card handle inside a transaction."""

    def __init__(self, handle: Any, protocol: int, atr: bytes, reader: str) -> None:
        self._handle = handle
        self._protocol = protocol
        self._atr = atr
        self._reader = reader

    @property
    def atr(self) -> bytes:
        """Return the ATR the reader reported when connecting."""
        return self._atr

    def transmit(self, apdu: bytes) -> bytes:
        """Send one APDU; map removal, reset and reader loss to typed errors."""
        hresult, response = scard.SCardTransmit(self._handle, self._protocol, list(apdu))
        if hresult == scard.SCARD_S_SUCCESS and len(response) >= 2:
            return bytes(response)
        if hresult == scard.SCARD_S_SUCCESS:
            # vpcd and some readers answer "nothing" when the card left mid-command.
            if self._card_gone():
                raise CardRemovedError(self._reader)
            raise CardCommunicationError(f"transmit: {len(response)}-byte response")
        raise self._classify(hresult)

    def _card_gone(self, wait_s: float = _REMOVAL_SETTLE_S) -> bool:
        """Return whether PC/SC reports the card removed, giving the reader driver a moment to notice."""
        give_up = time.monotonic() + wait_s
        while True:
            hresult, _, state, _, _ = scard.SCardStatus(self._handle)
            if _code(hresult) in _REMOVED or _code(hresult) in _NO_READER:
                return True
            if hresult == scard.SCARD_S_SUCCESS and _absent(int(state)):
                return True
            if time.monotonic() >= give_up:
                return False
            time.sleep(0.05)

    def _classify(self, hresult: int) -> CardGatewayError:
        """Decide whether a failed transmit means removal, a lost reader, a lost service or a card fault."""
        code = _code(hresult)
        if code in _NO_SERVICE:
            return PcscUnavailableError(f"transmit: {_describe(hresult)}")
        if code in _REMOVED:
            return CardRemovedError(self._reader)
        if code in _NO_READER:
            return NoReaderError(self._reader)
        if self._card_gone():
            return CardRemovedError(self._reader)
        return CardCommunicationError(f"transmit: {_describe(hresult)}")


class PcscBackend:
    """ReaderBackend over the local PC/SC service (pcscd on Linux, WinSCard on Windows)."""

    def __init__(self, *, share_mode: ShareMode = "exclusive") -> None:
        self._share = scard.SCARD_SHARE_EXCLUSIVE if share_mode == "exclusive" else scard.SCARD_SHARE_SHARED
        self._opener = AbandonedCallTracker()

    @contextmanager
    def _context(self) -> Iterator[Any]:
        """Establish a PC/SC context for one call and always release it."""
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise PcscUnavailableError(f"establish context: {_describe(hresult)}")
        try:
            yield context
        finally:
            scard.SCardReleaseContext(context)

    def ping(self) -> None:
        """Check that the PC/SC service answers (for readiness)."""
        with self._context() as context:
            hresult, _ = scard.SCardListReaders(context, [])
            _check_service(hresult, "list readers")

    def list_readers(self) -> list[ReaderInfo]:
        """Return the readers present now and the state of each."""
        with self._context() as context:
            hresult, names = scard.SCardListReaders(context, [])
            if _code(hresult) == _NO_READERS:
                return []
            _check_service(hresult, "list readers")
            if hresult != scard.SCARD_S_SUCCESS:
                raise CardCommunicationError(f"list readers: {_describe(hresult)}")
            if not names:
                return []
            hresult, states = scard.SCardGetStatusChange(
                context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in names]
            )
            _check_service(hresult, "reader status")
            if hresult != scard.SCARD_S_SUCCESS:
                # A reader vanished between the two calls: report what we know.
                return [ReaderInfo(name=str(name), card_present=False) for name in names]
            readers = []
            for name, state, atr in states:
                present = bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE
                readers.append(
                    ReaderInfo(
                        name=str(name),
                        card_present=present,
                        in_use=bool(state & scard.SCARD_STATE_INUSE),
                        exclusive=bool(state & scard.SCARD_STATE_EXCLUSIVE),
                        atr=bytes(atr) if present and atr else None,
                    )
                )
            return readers

    @contextmanager
    def connect(self, reader: str, *, busy_timeout: float) -> Iterator[PcscChannel]:
        """Connect, begin a transaction, and on exit end it and disconnect with a card reset.

        Connecting is bounded by ``busy_timeout`` (plus a short grace): a reader whose card another program holds
        in a transaction is ``reader.busy``, never a wait for as long as that program likes.
        """
        connection = self._opener.run(
            reader,
            lambda: self._open(reader, busy_timeout),
            timeout_s=busy_timeout + CONNECT_GRACE_S,
            cleanup=lambda late: _close(late, scard.SCARD_LEAVE_CARD),
            on_timeout=lambda: ReaderBusyError(reader),
        )
        try:
            yield PcscChannel(connection.handle, connection.protocol, connection.atr, reader)
        finally:
            _close(connection, scard.SCARD_RESET_CARD)

    def _open(self, reader: str, busy_timeout: float) -> _Connection:
        """Establish a context, connect and begin the transaction (blocking; run by the opener's worker)."""
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise PcscUnavailableError(f"establish context: {_describe(hresult)}")
        try:
            handle, protocol = self._connect(context, reader, busy_timeout)
            try:
                hresult, _, _, _, atr = scard.SCardStatus(handle)
                if hresult != scard.SCARD_S_SUCCESS:
                    raise (
                        CardRemovedError(reader)
                        if _code(hresult) in _REMOVED
                        else CardCommunicationError(f"status: {_describe(hresult)}")
                    )
                hresult = scard.SCardBeginTransaction(handle)
                if hresult != scard.SCARD_S_SUCCESS:
                    _check_service(hresult, "begin transaction")
                    if _code(hresult) in _REMOVED:
                        raise CardRemovedError(reader)
                    raise CardCommunicationError(f"begin transaction: {_describe(hresult)}")
            except BaseException:
                scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
                raise
        except BaseException:
            scard.SCardReleaseContext(context)
            raise
        return _Connection(context, handle, protocol, bytes(atr))

    def _connect(self, context: Any, reader: str, busy_timeout: float) -> tuple[Any, int]:
        """SCardConnect, retrying sharing violations until ``busy_timeout``."""
        give_up = time.monotonic() + busy_timeout
        while True:
            hresult, handle, protocol = scard.SCardConnect(
                context, reader, self._share, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
            )
            if hresult == scard.SCARD_S_SUCCESS:
                return handle, int(protocol)
            code = _code(hresult)
            _check_service(hresult, "connect")
            if code == _SHARING_VIOLATION:
                if time.monotonic() >= give_up:
                    raise ReaderBusyError(reader)
                time.sleep(_BUSY_POLL_S)
                continue
            if code in _REMOVED:
                raise NoCardError(reader)
            if code in _NO_READER:
                raise NoReaderError(reader)
            raise CardCommunicationError(f"connect: {_describe(hresult)}")
