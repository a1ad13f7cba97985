"""OCSP backend (RFC 6960): POST a request built with ``cryptography.x509.ocsp`` and check the signed answer.

The response must be signed by the issuing CA itself or by a delegated responder certificate that the CA issued with
extendedKeyUsage OCSPSigning and that is valid now; it must answer for exactly this certificate (issuer name and key
hashes, serial), echo our nonce when it returns one, and be fresh (thisUpdate not in the future, nextUpdate not passed,
or without nextUpdate not older than ``max_age``). Anything else is status unknown.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from identity.domain.jpki import RevocationResult, RevocationStatus

SOURCE = "ocsp"
REQUEST_TYPE = "application/ocsp-request"
RESPONSE_TYPE = "application/ocsp-response"

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def _key_hash(certificate: x509.Certificate) -> bytes:
    """Return SHA-1 of the certificate's subjectPublicKey bits (the OCSP ResponderID byKey)."""
    return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest


def _is_responder(resp: ocsp.OCSPResponse, certificate: x509.Certificate) -> bool:
    """Return whether the response's ResponderID names this certificate."""
    if resp.responder_name is not None:
        return resp.responder_name == certificate.subject
    return resp.responder_key_hash == _key_hash(certificate)


def _verify_with(key: object, resp: ocsp.OCSPResponse) -> bool:
    """Check the response signature with a public key."""
    algorithm = resp.signature_hash_algorithm
    if algorithm is None:
        return False
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _delegate_ok(candidate: x509.Certificate, issuer: x509.Certificate, now: datetime) -> bool:
    """Return whether a certificate is a valid delegated OCSP responder of ``issuer`` at ``now``."""
    try:
        candidate.verify_directly_issued_by(issuer)
        eku = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, x509.ExtensionNotFound):
        return False
    return (
        ExtendedKeyUsageOID.OCSP_SIGNING in eku
        and candidate.not_valid_before_utc <= now <= candidate.not_valid_after_utc
    )


def _signature_ok(resp: ocsp.OCSPResponse, issuer: x509.Certificate, now: datetime) -> str | None:
    """Return ``None`` when the CA or a delegated responder signed the response, else why not."""
    if _is_responder(resp, issuer):
        return (
            None
            if _verify_with(issuer.public_key(), resp)
            else "response signature does not verify with the CA key"
        )
    for candidate in resp.certificates:
        if _is_responder(resp, candidate):
            if not _delegate_ok(candidate, issuer, now):
                return "responder certificate is not a valid delegated OCSP signer of this CA"
            if not _verify_with(candidate.public_key(), resp):
                return "response signature does not verify with the responder key"
            return None
    return "response is signed by neither the CA nor a delegated responder"


class OcspRevocationChecker:
    """Revocation through OCSP responders, one URL per issuing CA."""

    def __init__(
        self,
        responders: Iterable[tuple[x509.Certificate, str]],
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        use_nonce: bool = True,
        max_age: timedelta = timedelta(hours=24),
        clock_skew: timedelta = timedelta(minutes=5),
    ) -> None:
        self._urls = {ca.fingerprint(hashes.SHA256()): url for ca, url in responders}
        self._client = client
        self._timeout = timeout
        self._use_nonce = use_nonce
        self._max_age = max_age
        self._skew = clock_skew

    async def _post(self, url: str, body: bytes) -> httpx.Response:
        """POST an OCSP request."""
        headers = {"Content-Type": REQUEST_TYPE, "Accept": RESPONSE_TYPE}
        if self._client is not None:
            return await self._client.post(url, content=body, headers=headers, timeout=self._timeout)
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            return await client.post(url, content=body, headers=headers)

    async def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationResult:
        """Ask the CA's responder about the certificate."""
        url = self._urls.get(issuer.fingerprint(hashes.SHA256()))
        if url is None:
            return RevocationResult(
                RevocationStatus.UNKNOWN, SOURCE, "no OCSP responder configured for this CA"
            )
        builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1())
        nonce = secrets.token_bytes(16)
        if self._use_nonce:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        request = builder.build()
        try:
            response = await self._post(url, request.public_bytes(serialization.Encoding.DER))
            response.raise_for_status()
            resp = ocsp.load_der_ocsp_response(response.content)
        except (httpx.HTTPError, ValueError) as exc:
            return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, f"{type(exc).__name__}: {exc}")
        return self._interpret(resp, request, certificate, issuer, nonce, now)

    def _interpret(
        self,
        resp: ocsp.OCSPResponse,
        request: ocsp.OCSPRequest,
        certificate: x509.Certificate,
        issuer: x509.Certificate,
        nonce: bytes,
        now: datetime,
    ) -> RevocationResult:
        """Turn a parsed OCSP response into a revocation result."""
        if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            return RevocationResult(
                RevocationStatus.UNKNOWN, SOURCE, f"responder said {resp.response_status.name}"
            )
        problem = _signature_ok(resp, issuer, now)
        if problem is not None:
            return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, problem)
        if self._use_nonce:
            try:
                echoed = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
            except x509.ExtensionNotFound:
                echoed = None
            if echoed is not None and echoed != nonce:
                return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, "nonce mismatch")
        single = next(
            (
                r
                for r in resp.responses
                if r.serial_number == certificate.serial_number
                and isinstance(r.hash_algorithm, type(request.hash_algorithm))
                and r.issuer_key_hash == request.issuer_key_hash
                and r.issuer_name_hash == request.issuer_name_hash
            ),
            None,
        )
        if single is None:
            return RevocationResult(
                RevocationStatus.UNKNOWN, SOURCE, "response does not cover this certificate"
            )
        if single.this_update_utc > now + self._skew:
            return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, "response thisUpdate is in the future")
        if single.next_update_utc is not None and single.next_update_utc < now - self._skew:
            return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, "response is stale (nextUpdate passed)")
        if single.next_update_utc is None and single.this_update_utc < now - self._max_age:
            return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, "response is too old")
        if single.certificate_status is ocsp.OCSPCertStatus.GOOD:
            return RevocationResult(RevocationStatus.GOOD, SOURCE, f"good as of {single.this_update_utc}")
        if single.certificate_status is ocsp.OCSPCertStatus.REVOKED:
            return RevocationResult(
                RevocationStatus.REVOKED, SOURCE, "revoked per responder", single.revocation_time_utc
            )
        return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, "responder does not know the certificate")
