"""Ports: what the operations need from a PC/SC stack (the pyscard adapter, or a fake in tests)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from card_gateway.domain.models import ReaderInfo


class CardChannel(Protocol):
    """A connected card inside one transaction; raises CardRemovedError when the card goes away."""

    @property
    def atr(self) -> bytes:
        """Return the ATR the reader reported."""
        ...

    def transmit(self, apdu: bytes) -> bytes:
        """Send a command APDU and return the response APDU (data + SW1 SW2)."""
        ...


class ReaderBackend(Protocol):
    """Readers and card connections; every method may raise a CardGatewayError."""

    def ping(self) -> None:
        """Raise PcscUnavailableError when the PC/SC service does not answer."""
        ...

    def list_readers(self) -> list[ReaderInfo]:
        """Return the readers present now and whether a card is in each."""
        ...

    def connect(self, reader: str, *, busy_timeout: float) -> AbstractContextManager[CardChannel]:
        """Connect to the card in ``reader`` and hold a transaction until the context exits (card reset then)."""
        ...
