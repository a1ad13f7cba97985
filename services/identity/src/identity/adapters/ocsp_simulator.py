"""SIMULATOR of J-LIS's JPKI OCSP responder and CRL distribution point — for tests and local stacks, never production.

J-LIS answers revocation queries only for registered verifiers, so the product's tests and local stack talk to this
simulator instead. It serves real RFC 6960 OCSP over HTTP/1.1 on a loopback address:

- ``POST /ocsp`` (any path) with an ``application/ocsp-request`` body, or ``GET /ocsp/<base64 request>``: answers good,
  revoked or unknown from the configured serials, signed by the CA key or by a delegated responder certificate
  (extendedKeyUsage OCSPSigning), echoing the request nonce; ``unauthorized`` for CAs it does not serve;
- ``GET /crl/<name>``: the CRL bytes configured under that name (``application/pkix-crl``);
- ``GET /health``: ``ok``.

It is a tiny asyncio HTTP server (one request per connection) so it needs no web framework::

    async with OcspSimulator([SimulatedCa(ca_cert, ca_key, revoked={serial: when})], clock=lambda: now) as sim:
        checker = OcspRevocationChecker([(ca_cert, sim.ocsp_url)])
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp

__all__ = ["OcspSimulator", "SimulatedCa"]

MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024


@dataclass
class SimulatedCa:
    """One CA the simulator answers for.

    ``key`` signs responses unless ``responder`` (a delegated certificate and its key) is given. ``revoked`` maps
    serials to revocation times. When ``known`` is ``None`` every other serial is good; otherwise serials in neither
    set are unknown. ``tamper`` corrupts the response signature (a forged answer, for tests of the checker).
    """

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey = field(repr=False)
    revoked: dict[int, datetime] = field(default_factory=dict)
    known: set[int] | None = None
    responder: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = field(default=None, repr=False)
    tamper: bool = False

    def status(self, serial: int) -> tuple[ocsp.OCSPCertStatus, datetime | None]:
        """Return the configured status of a serial."""
        if serial in self.revoked:
            return ocsp.OCSPCertStatus.REVOKED, self.revoked[serial]
        if self.known is None or serial in self.known:
            return ocsp.OCSPCertStatus.GOOD, None
        return ocsp.OCSPCertStatus.UNKNOWN, None


def _hashes_for(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    """Return (issuerNameHash, issuerKeyHash) of a CA certificate under ``algorithm``."""
    name = hashes.Hash(algorithm)
    name.update(certificate.subject.public_bytes())
    key_bits = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    key = hashes.Hash(algorithm)
    key.update(key_bits)
    return name.finalize(), key.finalize()


class OcspSimulator:
    """Serve simulated OCSP and CRL distribution over HTTP on loopback (see the module docstring)."""

    def __init__(
        self,
        cas: Iterable[SimulatedCa],
        *,
        crls: Mapping[str, bytes] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        validity: timedelta = timedelta(hours=1),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.cas = list(cas)
        self.crls: dict[str, bytes] = dict(crls or {})
        self._clock = clock
        self._validity = validity
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self.requests_served = 0

    # -- OCSP ----------------------------------------------------------------------------------------------------

    def respond(self, request_der: bytes) -> bytes:
        """Answer one DER OCSP request with a DER OCSP response."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        ca = self._find_ca(request)
        if ca is None:
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        now = self._clock()
        status, revoked_at = ca.status(request.serial_number)
        signer_cert, signer_key = ca.responder or (ca.certificate, ca.key)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=request.issuer_name_hash,
                issuer_key_hash=request.issuer_key_hash,
                serial_number=request.serial_number,
                algorithm=request.hash_algorithm,
                cert_status=status,
                this_update=now,
                next_update=now + self._validity,
                revocation_time=revoked_at,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked_at is not None else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, signer_cert)
        )
        if ca.responder is not None:
            builder = builder.certificates([signer_cert])
        with contextlib.suppress(x509.ExtensionNotFound):
            nonce = request.extensions.get_extension_for_class(x509.OCSPNonce).value
            builder = builder.add_extension(nonce, critical=False)
        response = builder.sign(signer_key, hashes.SHA256())
        der = response.public_bytes(serialization.Encoding.DER)
        if ca.tamper:
            at = der.rfind(response.signature) + len(response.signature) - 1
            der = der[:at] + bytes([der[at] ^ 0x01]) + der[at + 1 :]
        return der

    def _find_ca(self, request: ocsp.OCSPRequest) -> SimulatedCa | None:
        """Return the CA a request is about (matched by issuer name and key hashes)."""
        for ca in self.cas:
            if _hashes_for(ca.certificate, request.hash_algorithm) == (
                request.issuer_name_hash,
                request.issuer_key_hash,
            ):
                return ca
        return None

    # -- HTTP ----------------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return ``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("simulator not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def ocsp_url(self) -> str:
        """Return the OCSP endpoint URL."""
        return f"{self.base_url}/ocsp"

    def crl_url(self, name: str) -> str:
        """Return the URL serving the CRL configured under ``name``."""
        return f"{self.base_url}/crl/{name}"

    async def start(self) -> None:
        """Start listening."""
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def stop(self) -> None:
        """Stop listening and close the server."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> OcspSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one HTTP request on a connection, then close it."""
        try:
            status, content_type, body = await self._serve(reader)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, UnicodeDecodeError):
            status, content_type, body = 400, "text/plain", b"bad request"
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode("ascii") + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
        """Read one request and return (status, content type, body)."""
        raw = await reader.readuntil(b"\r\n\r\n")
        if len(raw) > MAX_HEADER_BYTES:
            return 431, "text/plain", b"headers too large"
        lines = raw.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        length = int(headers.get("content-length", "0"))
        if length < 0 or length > MAX_BODY_BYTES:
            return 413, "text/plain", b"body too large"
        body = await reader.readexactly(length) if length else b""
        self.requests_served += 1
        path = target.split("?", 1)[0]
        if method == "GET" and path == "/health":
            return 200, "text/plain", b"ok"
        if method == "GET" and path.startswith("/crl/"):
            crl = self.crls.get(unquote(path.removeprefix("/crl/")))
            return (
                (200, "application/pkix-crl", crl) if crl is not None else (404, "text/plain", b"no such CRL")
            )
        if method == "POST" and path.startswith("/ocsp"):
            return 200, "application/ocsp-response", self.respond(body)
        if method == "GET" and path.startswith("/ocsp/"):
            try:
                request_der = base64.b64decode(unquote(path.removeprefix("/ocsp/")), validate=True)
            except binascii.Error:
                return (
                    200,
                    "application/ocsp-response",
                    _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST),
                )
            return 200, "application/ocsp-response", self.respond(request_der)
        return 404, "text/plain", b"not found"


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    413: "Payload Too Large",
    431: "Headers Too Large",
}


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    """Return a DER OCSP response with an error status."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)
