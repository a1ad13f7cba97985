"""Fixtures of identity's integration tests: a live test PKI, the OCSP simulator, and one running identity app."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from identity.adapters.ocsp_simulator import OcspSimulator, SimulatedCa
from identity.bootstrap import IdentityServices
from identity.main import create_app
from shared.testing.jpki import TestCard, TestPki
from tests.identity.integration.support import FakeClock, identity_settings
from tests.support.apps import Infra, running

#: A serial the simulator and the CRL report as revoked (cards issued with it are revoked).
REVOKED_SERIAL = secrets.randbits(62) | 1


@pytest.fixture(scope="session")
def live_pki() -> TestPki:
    """The test PKI at the real clock (its cards are valid now), trusted by the app under test."""
    return TestPki.create(datetime.now(UTC))


@pytest.fixture(scope="session")
async def ocsp(live_pki: TestPki) -> AsyncIterator[OcspSimulator]:
    """The OCSP responder and CRL distribution simulator for every CA of the live PKI."""
    revoked_at = datetime.now(UTC)
    cas = [
        SimulatedCa(ca.certificate, ca.key, revoked={REVOKED_SERIAL: revoked_at})
        for ca in live_pki.trusted_cas()
    ]
    crls = {
        f"{ca.kind}-{ca.generation}": live_pki.crl(ca.kind, ca.generation, revoked=[REVOKED_SERIAL])
        for ca in live_pki.trusted_cas()
    }
    async with OcspSimulator(cas, crls=crls) as simulator:
        yield simulator


@dataclass
class Identity:
    """The running identity app: its HTTP client, app, services and movable clock."""

    client: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock

    @property
    def services(self) -> IdentityServices:
        """Return the app's services."""
        services: IdentityServices = self.app.state.identity
        return services


@pytest.fixture(scope="session")
async def identity_app(infra: Infra, live_pki: TestPki, ocsp: OcspSimulator) -> AsyncIterator[Identity]:
    """One identity app for the session (broker, relay and reminder job running), on the real infrastructure."""
    clock = FakeClock()
    app = create_app(identity_settings(infra, live_pki, ocsp.ocsp_url, reminder_interval_s=0.5), clock=clock)
    async with running(app) as client:
        yield Identity(client, app, clock)


@pytest.fixture
def identity(identity_app: Identity) -> Iterator[Identity]:
    """The session's identity app, with its clock put back after the test."""
    yield identity_app
    identity_app.clock.offset = identity_app.clock.offset * 0


@pytest.fixture
def card(live_pki: TestPki) -> TestCard:
    """A fresh, valid My Number Card of the current generation."""
    return live_pki.issue_card()
