"""Revocation backends behind :class:`identity.domain.jpki.RevocationChecker`: CRL, OCSP, and a fallback chain.

J-LIS serves CRLs and OCSP only to registered verifiers; locally and in tests, point these backends at the simulator
in :mod:`identity.adapters.ocsp_simulator` (OCSP and CRL distribution over HTTP) or at CRL files.
"""

from identity.adapters.revocation.crl import CrlRevocationChecker, CrlSource, FileCrlSource, HttpCrlSource
from identity.adapters.revocation.fallback import FallbackRevocationChecker
from identity.adapters.revocation.ocsp import OcspRevocationChecker

__all__ = [
    "CrlRevocationChecker",
    "CrlSource",
    "FallbackRevocationChecker",
    "FileCrlSource",
    "HttpCrlSource",
    "OcspRevocationChecker",
]
