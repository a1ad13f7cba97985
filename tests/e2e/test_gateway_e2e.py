"""The public gateway in front of the running services: the one address, the merged API, a service down."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.e2e_support import eventually
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def test_the_services_answer_through_the_public_address(stack: Stack) -> None:
    with httpx.Client(base_url=stack.public_url, timeout=10) as client:
        procedures = client.get("/api/applications/reference/procedures")
        assert procedures.status_code == 200, procedures.text
        assert procedures.headers["x-content-type-options"] == "nosniff"
        assert len(procedures.headers["x-request-id"]) == 32
        unauthenticated = client.get("/api/identity/me")
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["code"].startswith("auth.")
        # Health endpoints of the services are not public.
        assert client.get("/ready").status_code == 404


def test_one_public_api_document_merged_from_the_services(stack: Stack) -> None:
    with httpx.Client(base_url=stack.public_url, timeout=10) as client:
        document = client.get("/api/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    for prefix in (
        "/api/identity/",
        "/api/applications/",
        "/api/back-office/",
        "/api/attachments/",
        "/api/notifications/",
    ):
        assert any(p.startswith(prefix) for p in paths), prefix
    assert not any(p in paths for p in ("/ready", "/alive"))
    assert (stack.var / "stack.env").read_text().count(f"PUBLIC_URL={stack.public_url}") == 1


def test_a_stopped_service_answers_503_with_retry_after_through_the_gateway(stack: Stack) -> None:
    stack.proc("notifications").stop()
    try:
        with httpx.Client(base_url=stack.public_url, timeout=10) as client:
            answer = client.get("/api/notifications/deliveries")
        assert answer.status_code == 503
        assert answer.headers["retry-after"].isdigit()
        assert answer.json()["code"] == "service.unavailable"
    finally:
        stack.start_service("notifications")
        with httpx.Client(timeout=5) as client:
            eventually(
                lambda: (
                    client.get(f"http://127.0.0.1:{stack.ports.services['notifications']}/ready").status_code
                    == 200
                ),
                "notifications to be ready again",
            )
