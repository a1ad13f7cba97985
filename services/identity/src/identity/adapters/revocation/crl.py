"""CRL backend: fetch the issuing CA's CRL from a file or URL, check its signature and freshness, look up the serial."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from identity.domain.jpki import RevocationResult, RevocationStatus

SOURCE = "crl"


class CrlSource(Protocol):
    """Where one CA's CRL comes from."""

    async def fetch(self) -> bytes:
        """Return the current CRL, DER or PEM; raise on failure."""
        ...


@dataclass(frozen=True)
class FileCrlSource:
    """A CRL file on disk (e.g. mirrored from J-LIS by a scheduled job)."""

    path: Path

    async def fetch(self) -> bytes:
        """Read the file."""
        return await asyncio.to_thread(self.path.read_bytes)


class HttpCrlSource:
    """A CRL distribution point over HTTP(S)."""

    def __init__(self, url: str, *, client: httpx.AsyncClient | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self._client = client
        self._timeout = timeout

    async def fetch(self) -> bytes:
        """GET the CRL."""
        if self._client is not None:
            response = await self._client.get(self.url, timeout=self._timeout)
        else:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(self.url)
        response.raise_for_status()
        return response.content

    def __repr__(self) -> str:
        return f"HttpCrlSource({self.url!r})"


def _fingerprint(certificate: x509.Certificate) -> bytes:
    """Return the SHA-256 fingerprint identifying a CA certificate."""
    return certificate.fingerprint(hashes.SHA256())


def _parse(data: bytes) -> x509.CertificateRevocationList:
    """Parse a DER or PEM CRL."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


class CrlRevocationChecker:
    """Revocation through CRLs, one source per issuing CA; a CRL is cached until its nextUpdate.

    A CRL whose signature does not verify with the issuing CA's key, whose issuer differs, that lacks nextUpdate or whose
    nextUpdate has passed (stale) gives status unknown, never good.
    """

    def __init__(
        self,
        sources: Iterable[tuple[x509.Certificate, CrlSource]],
        *,
        clock_skew: timedelta = timedelta(minutes=5),
    ) -> None:
        self._sources = {_fingerprint(ca): source for ca, source in sources}
        self._cache: dict[bytes, x509.CertificateRevocationList] = {}
        self._locks: dict[bytes, asyncio.Lock] = {}
        self._skew = clock_skew

    def _problem(self, crl: x509.CertificateRevocationList, now: datetime) -> str | None:
        """Return why a cached CRL cannot be used at ``now``, or ``None``."""
        if crl.next_update_utc is None:
            return "CRL has no nextUpdate"
        if crl.last_update_utc > now + self._skew:
            return f"CRL thisUpdate {crl.last_update_utc} is in the future"
        if crl.next_update_utc < now:
            return f"CRL is stale (nextUpdate {crl.next_update_utc})"
        return None

    async def _load(
        self, key: bytes, issuer: x509.Certificate, now: datetime
    ) -> tuple[x509.CertificateRevocationList | None, str]:
        """Fetch, verify and cache the issuer's CRL; return it or why not."""
        try:
            crl = _parse(await self._sources[key].fetch())
        except Exception as exc:  # network, file and parse errors all mean "unknown"
            return None, f"cannot fetch CRL: {type(exc).__name__}: {exc}"
        if crl.issuer != issuer.subject:
            return None, "CRL issuer differs from the certificate's CA"
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            return None, "CRL signature does not verify with the CA key"
        current = self._cache.get(key)
        if current is None or crl.last_update_utc >= current.last_update_utc:
            self._cache[key] = crl
        return self._cache[key], ""

    async def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationResult:
        """Look the serial up in the issuer's current CRL."""
        key = _fingerprint(issuer)
        if key not in self._sources:
            return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, "no CRL source configured for this CA")
        async with self._locks.setdefault(key, asyncio.Lock()):
            crl = self._cache.get(key)
            if crl is None or self._problem(crl, now) is not None:
                crl, why = await self._load(key, issuer, now)
                if crl is None:
                    return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, why)
        problem = self._problem(crl, now)
        if problem is not None:
            return RevocationResult(RevocationStatus.UNKNOWN, SOURCE, problem)
        entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if entry is None:
            return RevocationResult(RevocationStatus.GOOD, SOURCE, f"not on CRL of {crl.last_update_utc}")
        return RevocationResult(
            RevocationStatus.REVOKED, SOURCE, f"on CRL of {crl.last_update_utc}", entry.revocation_date_utc
        )
