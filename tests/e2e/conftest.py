"""The end-to-end session: the whole stack (what ``make up`` starts) as real processes, on ports of its own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from shared.testing.jpki import TestPki
from tests.e2e.e2e_support import dev_pki, e2e_stack, eventually, fresh, running_processes, url
from tests.support.stack import Stack, port_open


def ready(client: httpx.Client, stack: Stack, service: str) -> bool:
    """Tell whether a service says it is ready (its database and the broker answer)."""
    try:
        return client.get(url(stack, service, "/ready")).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    """Bring up PostgreSQL, Kafka, the SMTP catcher, the simulators, every service and the checkers; stop all after.

    Under ``var/test-e2e[-<offset>]``, started from an empty folder; ``down()`` must leave no process behind.
    Package-scoped: in a whole-suite run the stack stops as soon as the e2e tests are done, instead of idling
    (a 512 MB broker and nine Python processes) through the rest of the session on a 2-core machine.
    """
    stack = e2e_stack()
    fresh(stack)
    try:
        stack.up()
        with httpx.Client(timeout=5) as client:
            for service in stack.ports.services:
                eventually(lambda: ready(client, stack, service), f"{service} to be ready")  # noqa: B023
        yield stack
    finally:
        stack.down()
        left = running_processes(stack)
        assert not left, f"processes still running after down(): {left}"
        listening = [p for p in all_ports(stack) if port_open(p)]
        assert not listening, f"ports still served after down(): {listening}"


def all_ports(stack: Stack) -> list[int]:
    """Every port the stack listens on."""
    p = stack.ports
    return [
        p.kafka,
        p.kafka_controller,
        p.postgres,
        p.smtp,
        p.card_gateway,
        p.ocsp,
        p.mynaportal,
        p.gateway,
        p.web,
        *p.services.values(),
    ]


@pytest.fixture(scope="package")
def pki(stack: Stack) -> TestPki:
    """The stack's development JPKI (what identity trusts), able to issue new cards."""
    return dev_pki(stack.var / "jpki")


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A plain HTTP client for talking to the stack."""
    with httpx.Client(timeout=30) as http:
        yield http
