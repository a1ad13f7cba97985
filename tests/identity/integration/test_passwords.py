"""Password reset by e-mail (single use, reveals nothing) and password change while signed in."""

from __future__ import annotations

import pytest

from shared.testing.jpki import TestPki
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import (
    bearer,
    outbox_events,
    random_email,
    registered_user,
    sign_in,
    token_of,
)

pytestmark = pytest.mark.integration

RESETS = "/api/identity/password-resets"
NEW_PASSWORD = "Toranomon-Hills-77"


async def test_a_reset_link_sets_a_new_password_once_and_ends_every_sign_in(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    tokens = (await sign_in(identity.client, user.auth_id, user.password)).json()
    asked = await identity.client.post(RESETS, json={"email": user.email.upper()})
    assert asked.status_code == 202
    events = await outbox_events(identity.services.sessions, "PasswordResetRequested", user.user_id)
    assert len(events) == 1 and events[0]["reset_url"].startswith(
        "https://ras.example.jp/password-reset?token="
    )
    token = token_of(events[0]["reset_url"])
    done = await identity.client.post(
        f"{RESETS}/completions", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 200, done.text
    assert done.json()["auth_id"] == user.auth_id
    again = await identity.client.post(
        f"{RESETS}/completions", json={"token": token, "password": NEW_PASSWORD}
    )
    assert again.status_code == 410 and again.json()["code"] == "link.used"
    old = await identity.client.post(
        "/api/identity/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert old.status_code == 401
    assert (await sign_in(identity.client, user.auth_id, user.password)).status_code == 401
    assert (await sign_in(identity.client, user.auth_id, NEW_PASSWORD)).status_code == 201


async def test_asking_for_a_reset_reveals_nothing_about_the_address(identity: Identity) -> None:
    unknown = await identity.client.post(RESETS, json={"email": random_email("nobody")})
    assert unknown.status_code == 202
    assert "登録されているメールアドレスであれば" in unknown.json()["message_ja"]


async def test_reset_requests_beyond_the_hourly_limit_are_silently_not_sent(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    answers = [await identity.client.post(RESETS, json={"email": user.email}) for _ in range(5)]
    assert {a.status_code for a in answers} == {202}
    assert len(await outbox_events(identity.services.sessions, "PasswordResetRequested", user.user_id)) == 3


async def test_a_reset_password_must_follow_the_rules(identity: Identity, live_pki: TestPki) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    await identity.client.post(RESETS, json={"email": user.email})
    events = await outbox_events(identity.services.sessions, "PasswordResetRequested", user.user_id)
    token = token_of(events[-1]["reset_url"])
    weak = await identity.client.post(
        f"{RESETS}/completions", json={"token": token, "password": f"Aa1!{user.auth_id.replace('-', '')}"}
    )
    assert weak.status_code == 422
    assert "password.contains_auth_id" in {r["code"] for r in weak.json()["reasons"]}


async def test_a_signed_in_user_changes_the_password_with_the_current_one(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    tokens = (await sign_in(identity.client, user.auth_id, user.password)).json()
    url, headers = "/api/identity/me/password", bearer(tokens["access_token"])
    wrong = await identity.client.post(
        url, json={"current_password": "Not-the-password-1", "new_password": NEW_PASSWORD}, headers=headers
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "password.current_wrong"
    changed = await identity.client.post(
        url, json={"current_password": user.password, "new_password": NEW_PASSWORD}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert (await sign_in(identity.client, user.auth_id, NEW_PASSWORD)).status_code == 201
