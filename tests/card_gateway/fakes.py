"""Test doubles: a ReaderBackend that holds virtual cards in memory (no pcscd, no pyscard)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from card_gateway.domain.apdu import CommandApdu
from card_gateway.domain.errors import (
    CardRemovedError,
    NoCardError,
    NoReaderError,
    PcscUnavailableError,
    ReaderBusyError,
)
from card_gateway.domain.models import ReaderInfo
from card_gateway.virtual_card import VirtualCard


class FakeChannel:
    """A channel straight into a virtual card's APDU processor."""

    def __init__(self, backend: FakeReaderBackend, reader: str, card: VirtualCard) -> None:
        self._backend = backend
        self._reader = reader
        self._card = card

    @property
    def atr(self) -> bytes:
        """Return the card's ATR."""
        return self._card.atr

    def transmit(self, apdu: bytes) -> bytes:
        """Answer through the card, honouring the backend's removal and delay hooks."""
        command = CommandApdu.parse(apdu)
        if self._backend.remove_when is not None and self._backend.remove_when(command):
            self._backend.remove_when = None
            self._backend.cards[self._reader] = None
            raise CardRemovedError(self._reader)
        if self._backend.delay_when is not None and self._backend.delay_when[0](command):
            time.sleep(self._backend.delay_when[1])
        return self._card.process(apdu)


class FakeReaderBackend:
    """Readers with or without a card; ``busy`` readers refuse connections like another program holding them."""

    def __init__(self, cards: dict[str, VirtualCard | None] | None = None) -> None:
        self.cards: dict[str, VirtualCard | None] = dict(cards or {})
        self.busy: set[str] = set()
        self.service_down = False
        self.remove_when: Callable[[CommandApdu], bool] | None = None
        self.delay_when: tuple[Callable[[CommandApdu], bool], float] | None = None
        self.connections = 0

    def ping(self) -> None:
        """Fail when the fake service is down."""
        if self.service_down:
            raise PcscUnavailableError("fake service down")

    def list_readers(self) -> list[ReaderInfo]:
        """List the fake readers."""
        self.ping()
        return [
            ReaderInfo(name=name, card_present=card is not None, atr=card.atr if card else None)
            for name, card in self.cards.items()
        ]

    @contextmanager
    def connect(self, reader: str, *, busy_timeout: float) -> Iterator[FakeChannel]:
        """Connect; the card is reset afterwards, like the PC/SC adapter's disposition."""
        self.ping()
        if reader not in self.cards:
            raise NoReaderError(reader)
        if reader in self.busy:
            time.sleep(busy_timeout)
            raise ReaderBusyError(reader)
        card = self.cards[reader]
        if card is None:
            raise NoCardError(reader)
        self.connections += 1
        card.reset()
        try:
            yield FakeChannel(self, reader, card)
        finally:
            card.reset()
