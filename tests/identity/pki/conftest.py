"""Fixtures for identity's PKI tests: one test PKI per session at a fixed clock."""

from datetime import UTC, datetime

import pytest

from shared.testing.jpki import TestCard, TestPki

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def now() -> datetime:
    """Return the fixed clock of the PKI tests."""
    return NOW


@pytest.fixture(scope="session")
def pki() -> TestPki:
    """Return the session's test PKI."""
    return TestPki.create(NOW)


@pytest.fixture(scope="session")
def card(pki: TestPki) -> TestCard:
    """Return a valid current-generation card."""
    return pki.issue_card()
