"""A revocation checker that asks several backends in turn (e.g. OCSP first, then CRL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from identity.domain.jpki import RevocationChecker, RevocationResult, RevocationStatus


class FallbackRevocationChecker:
    """Return the first conclusive answer (good or revoked) of its backends, else unknown with every detail."""

    def __init__(self, checkers: Sequence[RevocationChecker]) -> None:
        if not checkers:
            raise ValueError("at least one revocation checker is needed")
        self._checkers = tuple(checkers)

    async def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, now: datetime
    ) -> RevocationResult:
        """Ask each backend until one answers good or revoked."""
        details: list[str] = []
        for checker in self._checkers:
            try:
                result = await checker.check(certificate, issuer, now=now)
            except Exception as exc:  # one broken backend must not hide the next
                details.append(f"{type(checker).__name__}: {type(exc).__name__}: {exc}")
                continue
            if result.status is not RevocationStatus.UNKNOWN:
                return result
            details.append(f"{result.source}: {result.detail}")
        return RevocationResult(RevocationStatus.UNKNOWN, "fallback", "; ".join(details))
