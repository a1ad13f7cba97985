"""The OpenAPI document lists every endpoint with the problem codes it may return."""

from __future__ import annotations

from typing import Any

import pytest

from identity.domain.jpki import CardRefusalCode
from identity.service_layer.errors import STATUS
from tests.identity.integration.conftest import Identity

pytestmark = pytest.mark.integration

CARD_CODES = {c.value for c in CardRefusalCode}
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("post", "/api/identity/registrations"): CARD_CODES
    | {"terms.not_agreed", "registration.duplicate", "registration.pending", "representation.rejected"},
    ("post", "/api/identity/registrations/{user_id}/setup-link"): {
        "registration.expired",
        "registration.completed",
        "setup.resend_limited",
    },
    ("post", "/api/identity/password-setups"): {
        "link.unknown",
        "link.expired",
        "link.used",
        "password.rejected",
    },
    ("post", "/api/identity/password-resets/completions"): {"link.expired", "link.used", "password.rejected"},
    ("post", "/api/identity/sessions"): {
        "signin.invalid_credentials",
        "signin.locked",
        "signin.address_locked",
        "signin.password_expired",
    },
    ("post", "/api/identity/sessions/card"): CARD_CODES
    | {"signin.card_not_registered", "signin.category_required"},
    ("post", "/api/identity/sessions/refresh"): {"token.refresh_invalid", "token.refresh_reused"},
    ("post", "/api/identity/me/representations"): {
        "auth.required",
        "representation.not_allowed",
        "representation.rejected",
    },
}


def documented(operation: dict[str, Any]) -> dict[str, int]:
    """Return code -> status of the problem codes an operation documents."""
    found: dict[str, int] = {}
    for status, response in operation.get("responses", {}).items():
        for code in response.get("x-problem-codes", []):
            found[code] = int(status)
    return found


async def test_every_identity_route_documents_its_problem_codes_with_their_statuses(
    identity: Identity,
) -> None:
    spec = (await identity.client.get("/openapi.json")).json()
    routes = {
        (method, path): operation
        for path, item in spec["paths"].items()
        if path.startswith("/api/identity/")
        for method, operation in item.items()
    }
    assert len(routes) >= 15
    for key, operation in routes.items():
        codes = documented(operation)
        assert "request.invalid" in codes, key
        for code, status in codes.items():
            assert STATUS[code] == status, (key, code)
        assert operation.get("summary") or operation.get("description"), key
    for key, wanted in EXPECTED.items():
        assert wanted <= set(documented(routes[key])), (key, wanted - set(documented(routes[key])))
    assert "ProblemPublic" in spec["components"]["schemas"]
