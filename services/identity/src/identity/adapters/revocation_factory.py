"""Build the configured revocation checker (OCSP, CRL or OCSP then CRL) for the configured trust anchors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from identity.adapters.revocation import (
    CrlRevocationChecker,
    CrlSource,
    FallbackRevocationChecker,
    FileCrlSource,
    HttpCrlSource,
    OcspRevocationChecker,
)
from identity.config import RevocationSettings
from identity.domain.jpki import RevocationChecker, TrustAnchor


def _crl_source(location: str, timeout: float) -> CrlSource:
    """Return a CRL source for a URL or a file path."""
    if location.startswith(("http://", "https://")):
        return HttpCrlSource(location, timeout=timeout)
    return FileCrlSource(Path(location))


def build_revocation_checker(
    settings: RevocationSettings, anchors: Sequence[TrustAnchor]
) -> RevocationChecker:
    """Return the checker the settings ask for; an anchor without a source answers unknown (fail closed)."""
    checkers: list[RevocationChecker] = []
    if "ocsp" in settings.backend:
        responders = [
            (a.certificate, url)
            for a in anchors
            if (url := settings.ocsp_urls.get(a.label, settings.ocsp_url)) is not None
        ]
        checkers.append(OcspRevocationChecker(responders, timeout=settings.timeout_s))
    if "crl" in settings.backend:
        labels = {a.label for a in anchors}
        unknown = sorted(set(settings.crl) - labels)
        if unknown:
            raise ValueError(f"IDENTITY_REVOCATION__CRL names no configured trust anchor: {unknown}")
        sources = [
            (a.certificate, _crl_source(settings.crl[a.label], settings.timeout_s))
            for a in anchors
            if a.label in settings.crl
        ]
        checkers.append(CrlRevocationChecker(sources))
    return checkers[0] if len(checkers) == 1 else FallbackRevocationChecker(checkers)
