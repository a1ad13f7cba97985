"""The CRL backend answers good, revoked or unknown from signature-checked, fresh CRLs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from identity.adapters.revocation import CrlRevocationChecker, FallbackRevocationChecker, FileCrlSource
from identity.domain.jpki import RevocationResult, RevocationStatus
from shared.testing.jpki import TestCard, TestPki

pytestmark = pytest.mark.unit


class ListCrlSource:
    """Hands out the given CRLs one per fetch (the last one repeatedly)."""

    def __init__(self, *crls: bytes) -> None:
        self.crls = list(crls)
        self.fetches = 0

    async def fetch(self) -> bytes:
        self.fetches += 1
        return self.crls[min(self.fetches, len(self.crls)) - 1]


async def check(pki: TestPki, card: TestCard, source: object, now: datetime) -> RevocationResult:
    ca = pki.auth_ca().certificate
    checker = CrlRevocationChecker([(ca, source)])  # type: ignore[list-item]
    return await checker.check(card.certificate("auth"), ca, now=now)


async def test_good_when_the_serial_is_not_listed(
    pki: TestPki, card: TestCard, now: datetime, tmp_path: Path
) -> None:
    path = tmp_path / "auth.crl"
    path.write_bytes(pki.crl("auth", revoked=[12345]))
    result = await check(pki, card, FileCrlSource(path), now)
    assert result.status is RevocationStatus.GOOD
    assert result.source == "crl"


async def test_revoked_when_the_serial_is_listed_in_a_pem_crl(
    pki: TestPki, card: TestCard, now: datetime, tmp_path: Path
) -> None:
    path = tmp_path / "auth.pem"
    path.write_bytes(pki.crl("auth", revoked=[card.serial("auth")], pem=True))
    result = await check(pki, card, FileCrlSource(path), now)
    assert result.status is RevocationStatus.REVOKED
    assert result.revoked_at is not None


async def test_unknown_when_the_crl_is_stale(pki: TestPki, card: TestCard, now: datetime) -> None:
    stale = pki.crl("auth", this_update=now - timedelta(days=2), next_update=now - timedelta(minutes=1))
    result = await check(pki, card, ListCrlSource(stale), now)
    assert result.status is RevocationStatus.UNKNOWN
    assert "stale" in result.detail


async def test_unknown_when_the_crl_is_not_signed_by_the_ca(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    forged = pki.crl("auth", signer=pki.rogue_ca("auth"))
    result = await check(pki, card, ListCrlSource(forged), now)
    assert result.status is RevocationStatus.UNKNOWN
    assert "signature" in result.detail


async def test_unknown_when_the_crl_is_of_another_ca(pki: TestPki, card: TestCard, now: datetime) -> None:
    result = await check(pki, card, ListCrlSource(pki.crl("sign")), now)
    assert result.status is RevocationStatus.UNKNOWN


async def test_unknown_when_the_crl_cannot_be_fetched(
    pki: TestPki, card: TestCard, now: datetime, tmp_path: Path
) -> None:
    result = await check(pki, card, FileCrlSource(tmp_path / "missing.crl"), now)
    assert result.status is RevocationStatus.UNKNOWN
    assert "cannot fetch" in result.detail


async def test_unknown_when_no_source_is_configured_for_the_ca(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    checker = CrlRevocationChecker([(pki.sign_ca().certificate, ListCrlSource(pki.crl("sign")))])
    result = await checker.check(card.certificate("auth"), pki.auth_ca().certificate, now=now)
    assert result.status is RevocationStatus.UNKNOWN


async def test_caches_until_next_update_then_fetches_again(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    first = pki.crl("auth", next_update=now + timedelta(hours=1))
    second = pki.crl("auth", revoked=[card.serial("auth")], this_update=now + timedelta(minutes=61))
    source = ListCrlSource(first, second)
    ca = pki.auth_ca().certificate
    checker = CrlRevocationChecker([(ca, source)])
    assert (await checker.check(card.certificate("auth"), ca, now=now)).status is RevocationStatus.GOOD
    assert (await checker.check(card.certificate("auth"), ca, now=now)).status is RevocationStatus.GOOD
    assert source.fetches == 1
    later = now + timedelta(hours=2)
    assert (await checker.check(card.certificate("auth"), ca, now=later)).status is RevocationStatus.REVOKED
    assert source.fetches == 2


async def test_fallback_uses_the_next_backend_when_the_first_is_inconclusive(
    pki: TestPki, card: TestCard, now: datetime
) -> None:
    ca = pki.auth_ca().certificate
    broken = CrlRevocationChecker([(ca, ListCrlSource(b"not a crl"))])
    working = CrlRevocationChecker([(ca, ListCrlSource(pki.crl("auth")))])
    result = await FallbackRevocationChecker([broken, working]).check(card.certificate("auth"), ca, now=now)
    assert result.status is RevocationStatus.GOOD
    nothing = await FallbackRevocationChecker([broken]).check(card.certificate("auth"), ca, now=now)
    assert nothing.status is RevocationStatus.UNKNOWN
    assert "cannot fetch" in nothing.detail
