"""Test session set-up: the real infrastructure starts once, lazily, and stops at the end — also when the session
is interrupted (Ctrl-C, or SIGTERM/SIGHUP, which are turned into the same interrupt so that teardown runs)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from shared.auth import generate_keypair
from shared.migrations import upgrade
from tests.support.apps import Infra
from tests.support.stack import ROOT, TestStack

from localstack import raise_on_termination  # isort: skip  (deploy/ is on sys.path through tests.support.stack)

SERVICES = ("identity", "applications", "attachments", "notifications", "web")

# Tests make a fresh bureau code each; the test desks of this file make those codes known (shared.bureaus).
os.environ.setdefault("RAS_EXTRA_BUREAUS_FILE", str(ROOT / "tests" / "support" / "bureaus.test.yaml"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """SIGTERM and SIGHUP interrupt the session like Ctrl-C, so fixtures stop what they started."""
    raise_on_termination()


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """Start Kafka, PostgreSQL and the SMTP catcher once; fresh, migrated databases for every service."""
    stack = TestStack()
    try:
        stack.start()  # inside the try: an interrupt half-way through a start stops what already runs
        for service in SERVICES:
            stack.create_database(f"ras_test_{service}", fresh=True)
            upgrade(ROOT / "services" / service, stack.database_url(f"ras_test_{service}"))
        private, public = generate_keypair()
        yield Infra(stack=stack, private_key=private, public_key=public)
    finally:
        stack.stop()
