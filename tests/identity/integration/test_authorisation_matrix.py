"""Every route of identity and notifications × every role, from their OpenAPI documents (issue 12).

The applications and attachments matrix (``tests/attachments/service/test_authorisation_matrix.py``) covers the
routes that touch an application. Here: identity's routes are either public (registration, links, sign-in: no token
needed, so none is refused for want of one) or for the signed-in person (``/me``…: 401 without a token, never 403 for
a signed-in caller of any role); notifications' delivery log is for operators alone. The route list comes from each
app's ``app.openapi()``, so a route missing from ``EXPECTED`` fails the test.

Outcomes: ``public`` never 401/403; ``anon`` 401; ``ok`` the caller passes authorisation (neither 401 nor 403);
``deny`` 403. No answer may be a 5xx.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from notifications.config import NotificationsSettings, SmtpSettings
from notifications.main import create_app as notifications_app
from shared.auth import APPLICANT_ROLE, OFFICER_ROLE, OPERATOR_ROLE, Principal, TokenSigner
from tests.identity.integration.conftest import Identity
from tests.support.apps import Infra, running

pytestmark = pytest.mark.integration

ROLES = ("applicant", "officer", "operator", "no_token")
PUBLIC = dict.fromkeys(ROLES, "public")
SIGNED_IN = dict.fromkeys(ROLES, "ok") | {"no_token": "anon"}
OPERATOR = {"applicant": "deny", "officer": "deny", "operator": "ok", "no_token": "anon"}

EXPECTED: dict[tuple[str, str, str], dict[str, str]] = {
    ("identity", "GET", "/alive"): PUBLIC,
    ("identity", "GET", "/ready"): PUBLIC,
    ("identity", "POST", "/api/identity/card-challenges"): PUBLIC,
    ("identity", "POST", "/api/identity/registrations"): PUBLIC,
    ("identity", "POST", "/api/identity/registrations/{user_id}/setup-link"): PUBLIC,
    ("identity", "POST", "/api/identity/link-checks"): PUBLIC,
    ("identity", "POST", "/api/identity/password-setups"): PUBLIC,
    ("identity", "POST", "/api/identity/password-resets"): PUBLIC,
    ("identity", "POST", "/api/identity/password-resets/completions"): PUBLIC,
    ("identity", "POST", "/api/identity/sessions"): PUBLIC,
    ("identity", "POST", "/api/identity/sessions/card"): PUBLIC,
    ("identity", "POST", "/api/identity/sessions/refresh"): PUBLIC,
    ("identity", "POST", "/api/identity/sessions/sign-out"): PUBLIC,
    ("identity", "GET", "/api/identity/me"): SIGNED_IN,
    ("identity", "POST", "/api/identity/me/password"): SIGNED_IN,
    ("identity", "GET", "/api/identity/me/representations"): SIGNED_IN,
    ("identity", "POST", "/api/identity/me/representations"): SIGNED_IN,
    ("notifications", "GET", "/alive"): PUBLIC,
    ("notifications", "GET", "/ready"): PUBLIC,
    ("notifications", "GET", "/api/notifications/deliveries"): OPERATOR,
    ("notifications", "GET", "/api/notifications/failures"): OPERATOR,
    ("notifications", "GET", "/api/notifications/deliveries/{delivery_id}"): OPERATOR,
    ("notifications", "POST", "/api/notifications/deliveries/{delivery_id}/resend"): OPERATOR,
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def notifications(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    """The notifications app on the real infrastructure."""
    app = notifications_app(
        NotificationsSettings(
            **infra.common("notifications"), smtp=SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp)
        )
    )
    async with running(app) as client:
        yield client


def headers(infra: Infra, role: str) -> dict[str, str]:
    """The Authorization header of a caller in ``role`` (a token identity's key signed), or none."""
    roles = {"applicant": APPLICANT_ROLE, "officer": OFFICER_ROLE, "operator": OPERATOR_ROLE}
    if role == "no_token":
        return {}
    principal = Principal(
        user_id=uuid.uuid4(),
        roles=frozenset({roles[role]}),
        bureau="TOKYO" if role != "applicant" else None,
    )
    return {"Authorization": f"Bearer {TokenSigner(infra.private_key).sign(principal)}"}


def routes(openapi: dict[str, object]) -> set[tuple[str, str]]:
    """Every (method, path) of an OpenAPI document."""
    paths = openapi["paths"]
    assert isinstance(paths, dict)
    return {(method.upper(), path) for path, item in paths.items() for method in item}


async def test_every_route_of_identity_and_notifications_is_in_the_matrix_and_holds_for_every_role(
    infra: Infra, identity: Identity, notifications: httpx.AsyncClient
) -> None:
    apps = {"identity": (identity.client, identity.app.openapi()), "notifications": (notifications, None)}
    documents = {
        "identity": identity.app.openapi(),
        "notifications": (await notifications.get("/openapi.json")).json(),
    }
    listed = {(service, m, p) for service, doc in documents.items() for m, p in routes(doc)}
    assert listed == set(EXPECTED), (
        f"routes missing from the matrix: {listed - set(EXPECTED)}; gone: {set(EXPECTED) - listed}"
    )
    failures = []
    for (service, method, pattern), expected in sorted(EXPECTED.items()):
        client = apps[service][0]
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), pattern)
        for role in ROLES:
            answer = await client.request(
                method, path, headers=headers(infra, role), json={} if method == "POST" else None
            )
            status = answer.status_code
            outcome = expected[role]
            good = (
                status < 500
                and {
                    "public": status not in (401, 403),
                    "anon": status == 401,
                    "ok": status not in (401, 403),
                    "deny": status == 403,
                }[outcome]
            )
            if not good:
                failures.append(f"{service} {method} {pattern} as {role}: {status}, expected {outcome}")
    assert not failures, "\n".join(failures)
