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
from card_gateway.domain.certificates import require_supported_key
from card_gateway.domain.errors import (
    InvalidChallengeError,
    LastTryConfirmationRequiredError,
    NoCardError,
    NoReaderError,
    NotMyNumberCardError,
    OperationTimeoutError,
    PinBlockedError,
    PinTriesUnknownError,
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
        """Tell a My Number Card from any other card by selecting the JPKI AP and reading its token.

        Without a reader name: the first reader holding a My Number Card, else the first card found.
        """

        def op(session: JpkiSession, name: str) -> CardStatus:
            if not session.select_jpki():
                status = CardStatus(
                    name, my_number_card=False, jpki_application=False, token=None, atr=session.atr
                )
            else:
                token = session.read_token()
                status = CardStatus(
                    name,
                    my_number_card=token == apdu.MY_NUMBER_CARD_TOKEN,
                    jpki_application=True,
                    token=token,
                    atr=session.atr,
                )
            if reader is None and not status.my_number_card:
                raise _OtherCard(status)
            return status

        try:
            return self._run(reader, op)
        except NotMyNumberCardError as exc:
            other = exc if isinstance(exc, _OtherCard) else exc.__cause__
            if isinstance(other, _OtherCard):
                return other.status
            raise

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
            certificate = b""
            if kind is PinKind.AUTH:  # free to read: refuse an unsupported key before the PIN is sent
                certificate = session.read_certificate(kind)
                require_supported_key(kind, certificate, name)
            session.verify_pin(pin)
            if kind is PinKind.SIGNATURE:  # released only after the PIN: checked before anything is signed
                certificate = session.read_certificate(kind)
                require_supported_key(kind, certificate, name)
            signature = session.sign(kind, apdu.sha256_digest_info(challenge))
            return CardSignature(name, kind, signature=signature, certificate=certificate)

        return self._run(reader, op)

    def _candidates(self, reader: str | None) -> list[str]:
        """Return the named reader (checked), or every reader with a card, in PC/SC order."""
        readers = self._backend.list_readers()
        if reader is not None:
            found = next((r for r in readers if r.name == reader), None)
            if found is None:
                raise NoReaderError(reader)
            if not found.card_present:
                raise NoCardError(reader)
            return [reader]
        if not readers:
            raise NoReaderError()
        with_card = [r.name for r in readers if r.card_present]
        if not with_card:
            raise NoCardError(readers=[r.name for r in readers]) if len(readers) > 1 else NoCardError()
        return with_card

    def _lock(self, reader: str) -> threading.Lock:
        """Return the lock that serialises operations on one reader."""
        with self._locks_guard:
            return self._locks.setdefault(reader, threading.Lock())

    def _run(self, reader: str | None, op: Callable[[JpkiSession, str], T]) -> T:
        """Run ``op`` on the named reader, or on the first reader whose card is a My Number Card.

        Without a name every reader with a card is tried in order; a reader is passed over only when its card is
        not a My Number Card (found before any PIN is sent), it is busy, or its card left before we connected.
        The operation's deadline covers all of them.
        """
        started = time.monotonic()
        deadline = started + self.operation_timeout_s
        candidates = self._candidates(reader)
        if len(candidates) == 1:
            return self._run_on(candidates[0], op, started, deadline)
        others: list[NotMyNumberCardError] = []
        busy: ReaderBusyError | None = None
        for name in candidates:
            if time.monotonic() > deadline:
                raise OperationTimeoutError(self.operation_timeout_s)
            try:
                return self._run_on(name, op, started, deadline)
            except NotMyNumberCardError as exc:
                others.append(exc)
            except ReaderBusyError as exc:
                busy = busy or exc
            except NoCardError:
                continue
        if busy is not None:
            raise busy
        if not others:
            raise NoCardError(readers=candidates)
        raise NotMyNumberCardError(readers=[str(e.details.get("reader")) for e in others]) from others[0]

    def _run_on(self, name: str, op: Callable[[JpkiSession, str], T], started: float, deadline: float) -> T:
        """Run ``op`` on a fresh connection in one transaction; the card is reset and released afterwards."""
        lock = self._lock(name)
        wait = min(self.busy_timeout_s, max(0.0, deadline - time.monotonic()))
        if not lock.acquire(timeout=wait):
            raise ReaderBusyError(name)
        try:
            with self._backend.connect(name, busy_timeout=self.busy_timeout_s) as channel:
                session = JpkiSession(
                    channel, deadline=deadline, timeout_s=self.operation_timeout_s, reader=name
                )
                result = op(session, name)
            log.info(
                "card operation done",
                extra={"reader": name, "duration_ms": int((time.monotonic() - started) * 1000)},
            )
            return result
        finally:
            lock.release()


class _OtherCard(NotMyNumberCardError):
    """card_status without a reader name: this card is not a My Number Card, so look at the next reader."""

    def __init__(self, status: CardStatus) -> None:
        super().__init__(status.reader, status.token)
        self.status = status


def _check_tries(session: JpkiSession, kind: PinKind, confirm_last_try: bool) -> None:
    """Read the tries left first: refuse when unknown or blocked, and on the last try unless confirmed."""
    tries = session.pin_tries(kind)
    if tries is None:
        raise PinTriesUnknownError(kind, session.reader)
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
