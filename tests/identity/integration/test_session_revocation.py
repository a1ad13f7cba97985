"""Ended sign-ins: their access tokens are refused by every service within seconds (the sessions-revoked feed).

Runs identity with applications, attachments and notifications in-process on the session's real Kafka and
PostgreSQL; each service learns of revocations only through the topic (docs/adr/0011).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from applications.main import create_app as create_applications
from attachments.config import AttachmentsSettings
from attachments.main import create_app as create_attachments
from notifications.config import NotificationsSettings, SmtpSettings
from notifications.main import create_app as create_notifications
from shared.testing.jpki import TestPki
from tests.applications.integration.applications_support import settings as applications_settings
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import (
    bearer,
    registered_user,
    reset_events,
    sign_in,
    token_of,
)
from tests.support.apps import Infra, eventually, running

pytestmark = pytest.mark.integration

ME = "/api/identity/me"
REFRESH = "/api/identity/sessions/refresh"
NEW_PASSWORD = "Toranomon-Hills-77"
# One authenticated GET per service; any answer but 401 means the token was accepted.
PROBES = {
    "applications": "/api/applications",
    "attachments": "/api/attachments/applications/00000000-0000-4000-8000-000000000000",
    "notifications": "/api/notifications/failures",
}


@dataclass
class Services:
    """HTTP clients of the other services, by name."""

    clients: dict[str, httpx.AsyncClient]

    async def accepted_by(self, identity: Identity, token: str) -> dict[str, bool]:
        """Return, per service (identity included), whether it accepts the access token."""
        result = {"identity": (await identity.client.get(ME, headers=bearer(token))).status_code != 401}
        for name, client in self.clients.items():
            answer = await client.get(PROBES[name], headers=bearer(token))
            result[name] = answer.status_code != 401
        return result


def notifications_app(infra: Infra) -> FastAPI:
    """Return the notifications app on the session's infrastructure."""
    return create_notifications(
        NotificationsSettings(
            **infra.common("notifications"), smtp=SmtpSettings(host="127.0.0.1", port=infra.stack.ports.smtp)
        )
    )


@asynccontextmanager
async def other_services(infra: Infra, blob_dir: Path) -> AsyncIterator[Services]:
    """Run applications, attachments and notifications in this event loop."""
    attachments = AttachmentsSettings.model_validate({**infra.common("attachments"), "blob_dir": blob_dir})
    async with AsyncExitStack() as stack:
        clients = {
            "applications": await stack.enter_async_context(
                running(create_applications(applications_settings(infra)))
            ),
            "attachments": await stack.enter_async_context(running(create_attachments(attachments))),
            "notifications": await stack.enter_async_context(running(notifications_app(infra))),
        }
        yield Services(clients)


async def refused_everywhere(services: Services, identity: Identity, token: str) -> bool:
    """Return True once every service refuses the token."""
    return not any((await services.accepted_by(identity, token)).values())


async def test_a_signed_out_token_is_refused_by_every_service_and_other_sign_ins_go_on(
    identity: Identity, live_pki: TestPki, infra: Infra, tmp_path: Path
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    ended = (await sign_in(identity.client, user.auth_id, user.password)).json()
    other = (await sign_in(identity.client, user.auth_id, user.password)).json()
    async with other_services(infra, tmp_path) as services:
        everywhere = dict.fromkeys(["identity", *PROBES], True)
        assert await services.accepted_by(identity, ended["access_token"]) == everywhere
        # Verified once: from here on each service answers this token from its cache.
        out = await identity.client.post(
            "/api/identity/sessions/sign-out", json={"refresh_token": ended["refresh_token"]}
        )
        assert out.status_code == 204
        await eventually(lambda: refused_everywhere(services, identity, ended["access_token"]), timeout=30)
        refusal = await services.clients["applications"].get(
            PROBES["applications"], headers=bearer(ended["access_token"])
        )
        assert refusal.json()["code"] == "auth.invalid_token" and refusal.json()["message_ja"]
        assert await services.accepted_by(identity, other["access_token"]) == everywhere
    # A process started after the sign-out refuses the token from its first request (it reads the recent past).
    async with running(notifications_app(infra)) as late:
        first = await late.get(PROBES["notifications"], headers=bearer(ended["access_token"]))
        assert first.status_code == 401
        still = await late.get(PROBES["notifications"], headers=bearer(other["access_token"]))
        assert still.status_code == 403  # accepted, but an applicant is no operator


async def test_a_password_change_ends_every_other_sign_in_with_its_refresh_token(
    identity: Identity, live_pki: TestPki, infra: Infra, tmp_path: Path
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    current = (await sign_in(identity.client, user.auth_id, user.password)).json()
    elsewhere = (await sign_in(identity.client, user.auth_id, user.password)).json()
    changed = await identity.client.post(
        "/api/identity/me/password",
        json={"current_password": user.password, "new_password": NEW_PASSWORD},
        headers=bearer(current["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    refreshed = await identity.client.post(REFRESH, json={"refresh_token": elsewhere["refresh_token"]})
    assert refreshed.status_code == 401 and refreshed.json()["code"] == "token.refresh_invalid"
    async with other_services(infra, tmp_path) as services:
        await eventually(
            lambda: refused_everywhere(services, identity, elsewhere["access_token"]), timeout=30
        )
        assert all((await services.accepted_by(identity, current["access_token"])).values())
    kept = await identity.client.post(REFRESH, json={"refresh_token": current["refresh_token"]})
    assert kept.status_code == 200, kept.text


async def test_a_password_reset_ends_every_sign_in(identity: Identity, live_pki: TestPki) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    signed_in = [(await sign_in(identity.client, user.auth_id, user.password)).json() for _ in range(2)]
    await identity.client.post("/api/identity/password-resets", json={"email": user.email})
    token = token_of((await reset_events(identity.services.sessions, user.user_id))[-1]["reset_url"])
    done = await identity.client.post(
        "/api/identity/password-resets/completions", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    for tokens in signed_in:
        refreshed = await identity.client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 401

    async def all_refused() -> bool:
        answers = [await identity.client.get(ME, headers=bearer(t["access_token"])) for t in signed_in]
        return all(a.status_code == 401 for a in answers)

    await eventually(all_refused, timeout=30)
    fresh = (await sign_in(identity.client, user.auth_id, NEW_PASSWORD)).json()
    assert (await identity.client.get(ME, headers=bearer(fresh["access_token"]))).status_code == 200


async def test_a_reused_refresh_token_ends_the_access_token_of_that_sign_in(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    first = (await sign_in(identity.client, user.auth_id, user.password)).json()
    rotated = (await identity.client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    reused = await identity.client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401

    async def refused() -> bool:
        answer = await identity.client.get(ME, headers=bearer(rotated["access_token"]))
        return answer.status_code == 401

    await eventually(refused, timeout=30)
