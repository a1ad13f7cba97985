"""Connects a virtual card to vsmartcard's vpcd reader driver over its socket protocol.

vpcd (loaded by pcscd) listens on TCP 35963 for slot 0 and 35964 for slot 1; the card connects as a client. Every
message is a 2-byte big-endian length and a payload; a 1-byte payload is a control message (00 power off, 01 power
on, 02 reset, 04 send the ATR), anything longer is a command APDU answered with a response APDU. Closing the socket
is removing the card.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from card_gateway.domain.apdu import ApduFormatError, CommandApdu
from card_gateway.virtual_card.card import VirtualCard

log = logging.getLogger(__name__)

DEFAULT_PORT = 35963
POWER_OFF, POWER_ON, RESET, GET_ATR = 0x00, 0x01, 0x02, 0x04

CommandMatcher = Callable[[CommandApdu], bool]


@dataclass
class _Trigger:
    """A one-shot test hook: when a command matches, remove the card or wait before answering."""

    matches: CommandMatcher
    remove: bool = False
    delay_s: float = 0.0


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Read exactly ``size`` bytes; None when the peer closed the connection."""
    data = b""
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class VpcdCardSlot:
    """Inserts a virtual card into a vpcd slot (connects) and removes it (closes); answers in a background thread."""

    def __init__(self, card: VirtualCard, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._triggers: list[_Trigger] = []
        self._guard = threading.Lock()
        self.inserted = threading.Event()

    def __enter__(self) -> VpcdCardSlot:
        self.insert()
        return self

    def __exit__(self, *_: object) -> None:
        self.remove()

    def insert(self, *, timeout_s: float = 10.0) -> None:
        """Connect to vpcd (retrying until it listens) and start answering."""
        self.remove()
        give_up = time.monotonic() + timeout_s
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2.0)
                break
            except OSError:
                if time.monotonic() >= give_up:
                    raise
                time.sleep(0.2)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.card.reset()
        self._sock = sock
        self.inserted.set()
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"vpcd-card-{self.port}", daemon=True
        )
        self._thread.start()

    def remove(self) -> None:
        """Take the card out: close the socket (vpcd then reports no card) and wait for the thread."""
        with self._guard:
            sock, self._sock = self._sock, None
        if sock is not None:
            self._close(sock)
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.inserted.clear()

    def remove_on(self, matches: CommandMatcher) -> None:
        """When a matching command arrives, remove the card instead of answering (once)."""
        self._triggers.append(_Trigger(matches, remove=True))

    def delay_on(self, matches: CommandMatcher, seconds: float) -> None:
        """When a matching command arrives, wait ``seconds`` before answering (once)."""
        self._triggers.append(_Trigger(matches, delay_s=seconds))

    def clear_triggers(self) -> None:
        """Forget every pending hook."""
        self._triggers.clear()

    @staticmethod
    def _close(sock: socket.socket) -> None:
        """Shut the socket down so a blocked reader wakes up, then close it."""
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _fire(self, raw: bytes) -> _Trigger | None:
        """Return (and consume) the first trigger matching this command."""
        try:
            command = CommandApdu.parse(raw)
        except ApduFormatError:
            return None
        for trigger in list(self._triggers):
            if trigger.matches(command):
                self._triggers.remove(trigger)
                return trigger
        return None

    def _serve(self, sock: socket.socket) -> None:
        """Answer vpcd until it or we close the connection."""
        while True:
            header = _recv_exact(sock, 2)
            if header is None:
                break
            payload = _recv_exact(sock, int.from_bytes(header, "big"))
            if payload is None:
                break
            if len(payload) == 1:
                reply = self._control(payload[0])
            else:
                trigger = self._fire(payload)
                if trigger is not None and trigger.remove:
                    log.info("virtual card removed on command %s", payload[:4].hex())
                    with self._guard:
                        if self._sock is sock:
                            self._sock = None
                    self._close(sock)
                    self.inserted.clear()
                    return
                if trigger is not None and trigger.delay_s:
                    time.sleep(trigger.delay_s)
                reply = self.card.process(payload)
            if reply is None:
                continue
            try:
                sock.sendall(len(reply).to_bytes(2, "big") + reply)
            except OSError:
                break
        with self._guard:
            if self._sock is sock:
                self._sock = None
                self._close(sock)
        self.inserted.clear()

    def _control(self, message: int) -> bytes | None:
        """Handle a 1-byte control message; only GET_ATR is answered."""
        if message in (POWER_OFF, POWER_ON, RESET):
            self.card.reset()
            return None
        if message == GET_ATR:
            return self.card.atr
        log.warning("unknown vpcd control message %02X", message)
        return None

    def serve_forever(self, *, retry_s: float = 1.0) -> None:
        """Stay inserted: reconnect whenever vpcd goes away (for demos; Ctrl-C stops)."""
        while True:
            if self._sock is None:
                try:
                    self.insert(timeout_s=retry_s)
                    log.info("virtual card inserted into vpcd at %s:%d", self.host, self.port)
                except OSError:
                    pass
            time.sleep(retry_s)
