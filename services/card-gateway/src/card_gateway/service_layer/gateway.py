"""The card-gateway operations: each runs in one PC/SC transaction, serialised per reader, within a deadline."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from card_gateway.domain import apdu
from card_gateway.domain.errors import (
    InvalidChallengeError,
    LastTryConfirmationRequiredError,
    NoCardError,
    NoReaderError,
    OperationTimeoutError,
    PinBlockedError,
    ReaderBusyError,
)
from card_gateway.domain.models import (
    CardSignature,
    CardStatus,
    CertificateRead,
    PinKind,
    PinTries,
    ReaderInfo,
)
from card_gateway.domain.pin import Pin, parse_pin
from card_gateway.service_layer.jpki import JpkiSession
from card_gateway.service_layer.ports import ReaderBackend

log = logging.getLogger(__name__)

T = TypeVar("T")

MIN_CHALLENGE = 16
MAX_CHALLENGE = 1024


def check_challenge(challenge: bytes) -> bytes:
    """Refuse challenges that are too short to be a server nonce or too long to be one."""
    if not MIN_CHALLENGE <= len(challenge) <= MAX_CHALLENGE:
        raise InvalidChallengeError(
            f"it must be {MIN_CHALLENGE} to {MAX_CHALLENGE} bytes, got {len(challenge)}"
        )
    return challenge


class CardGateway:
    """Blocking card operations; thread-safe; one transaction per call and one call at a time per reader."""

    def __init__(
        self, backend: ReaderBackend, *, operation_timeout_s: float = 30.0, busy_timeout_s: float = 2.0
    ) -> None:
        self._backend = backend
        self.operation_timeout_s = operation_timeout_s
        self.busy_timeout_s = busy_timeout_s
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def ping(self) -> None:
        """Check that the PC/SC service answers."""
        self._backend.ping()

    def list_readers(self) -> list[ReaderInfo]:
        """Return the readers present now (the list is read fresh each time: readers come and go)."""
        return self._backend.list_readers()

    def card_status(self, reader: str | None = None) -> CardStatus:
        """Tell a My Number Card from any other card by selecting the JPKI AP and reading its token."""

        def op(session: JpkiSession, name: str) -> CardStatus:
            if not session.select_jpki():
                return CardStatus(
                    name, my_number_card=False, jpki_application=False, token=None, atr=session.atr
                )
            token = session.read_token()
            return CardStatus(
                name,
                my_number_card=token == apdu.MY_NUMBER_CARD_TOKEN,
                jpki_application=True,
                token=token,
                atr=session.atr,
            )

        return self._run(reader, op)

    def read_auth_certificate(self, reader: str | None = None) -> CertificateRead:
        """Read the user-authentication certificate (no PIN needed)."""

        def op(session: JpkiSession, name: str) -> CertificateRead:
            session.require_my_number_card()
            return CertificateRead(name, PinKind.AUTH, session.read_certificate(PinKind.AUTH))

        return self._run(reader, op)

    def pin_tries(self, reader: str | None = None) -> PinTries:
        """Read the tries left of both PINs without spending one."""

        def op(session: JpkiSession, name: str) -> PinTries:
            session.require_my_number_card()
            return PinTries(
                name, auth=session.pin_tries(PinKind.AUTH), signature=session.pin_tries(PinKind.SIGNATURE)
            )

        return self._run(reader, op)

    def sign_with_auth_key(
        self, challenge: bytes, pin: str, *, reader: str | None = None, confirm_last_try: bool = False
    ) -> CardSignature:
        """Sign ``DigestInfo(SHA-256(challenge))`` with the authentication key after the 4-digit PIN."""
        return self._sign(
            PinKind.AUTH, check_challenge(challenge), parse_pin(PinKind.AUTH, pin), reader, confirm_last_try
        )

    def sign_with_signature_key(
        self, challenge: bytes, pin: str, *, reader: str | None = None, confirm_last_try: bool = False
    ) -> CardSignature:
        """Sign ``DigestInfo(SHA-256(challenge))`` with the signature key after the signature PIN."""
        return self._sign(
            PinKind.SIGNATURE,
            check_challenge(challenge),
            parse_pin(PinKind.SIGNATURE, pin),
            reader,
            confirm_last_try,
        )

    def read_signature_certificate(
        self, pin: str, *, reader: str | None = None, confirm_last_try: bool = False
    ) -> CertificateRead:
        """Read the signature certificate, which the card releases only after the signature PIN."""
        checked = parse_pin(PinKind.SIGNATURE, pin)

        def op(session: JpkiSession, name: str) -> CertificateRead:
            session.require_my_number_card()
            _check_tries(session, PinKind.SIGNATURE, confirm_last_try)
            session.verify_pin(checked)
            return CertificateRead(name, PinKind.SIGNATURE, session.read_certificate(PinKind.SIGNATURE))

        return self._run(reader, op)

    def _sign(
        self, kind: PinKind, challenge: bytes, pin: Pin, reader: str | None, confirm_last_try: bool
    ) -> CardSignature:
        """Select → tries → (certificate) → verify → sign, all inside one transaction."""

        def op(session: JpkiSession, name: str) -> CardSignature:
            session.require_my_number_card()
            _check_tries(session, kind, confirm_last_try)
            certificate = session.read_certificate(kind) if kind is PinKind.AUTH else b""
            session.verify_pin(pin)
            if kind is PinKind.SIGNATURE:
                certificate = session.read_certificate(kind)
            signature = session.sign(kind, apdu.sha256_digest_info(challenge))
            return CardSignature(name, kind, signature=signature, certificate=certificate)

        return self._run(reader, op)

    def _resolve_reader(self, reader: str | None) -> str:
        """Pick the named reader, or the first reader with a card in it."""
        readers = self._backend.list_readers()
        if reader is not None:
            found = next((r for r in readers if r.name == reader), None)
            if found is None:
                raise NoReaderError(reader)
            if not found.card_present:
                raise NoCardError(reader)
            return reader
        if not readers:
            raise NoReaderError()
        with_card = [r for r in readers if r.card_present]
        if not with_card:
            raise NoCardError()
        return with_card[0].name

    def _lock(self, reader: str) -> threading.Lock:
        """Return the lock that serialises operations on one reader."""
        with self._locks_guard:
            return self._locks.setdefault(reader, threading.Lock())

    def _run(self, reader: str | None, op: Callable[[JpkiSession, str], T]) -> T:
        """Run ``op`` on a fresh connection in one transaction; the card is reset and released afterwards."""
        started = time.monotonic()
        deadline = started + self.operation_timeout_s
        name = self._resolve_reader(reader)
        lock = self._lock(name)
        if not lock.acquire(timeout=min(self.busy_timeout_s, self.operation_timeout_s)):
            raise ReaderBusyError(name)
        try:
            with self._backend.connect(name, busy_timeout=self.busy_timeout_s) as channel:
                session = JpkiSession(channel, deadline=deadline, timeout_s=self.operation_timeout_s)
                result = op(session, name)
            log.info(
                "card operation done",
                extra={"reader": name, "duration_ms": int((time.monotonic() - started) * 1000)},
            )
            return result
        finally:
            lock.release()


def _check_tries(session: JpkiSession, kind: PinKind, confirm_last_try: bool) -> None:
    """Read the tries left first: refuse on a blocked PIN, and on the last try unless the caller confirmed."""
    tries = session.pin_tries(kind)
    if tries == 0:
        raise PinBlockedError(kind)
    if tries == 1 and not confirm_last_try:
        raise LastTryConfirmationRequiredError(kind)


class AsyncCardGateway:
    """Runs CardGateway calls in a small worker pool with an overall timeout, for the HTTP API."""

    def __init__(self, gateway: CardGateway, *, workers: int = 4) -> None:
        self.gateway = gateway
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="card-gateway")

    async def run(self, fn: Callable[[], T]) -> T:
        """Run a blocking gateway call; raise OperationTimeoutError when it does not finish in time."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, fn)
        try:
            return await asyncio.wait_for(future, timeout=self.gateway.operation_timeout_s + 0.25)
        except TimeoutError:
            raise OperationTimeoutError(self.gateway.operation_timeout_s) from None

    def close(self) -> None:
        """Stop accepting work; running calls finish on their own (PC/SC calls cannot be interrupted)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
