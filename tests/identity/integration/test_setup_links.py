"""The password set-up link: single use, 30 days, re-sendable (rate-limited); the password policy and the 認証ID."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from identity.domain.auth_id import normalize_auth_id
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import (
    GOOD_PASSWORD,
    codes,
    execute,
    outbox_events,
    register,
    setup_token,
)

pytestmark = pytest.mark.integration

SETUPS = "/api/identity/password-setups"


async def _pending(identity: Identity, card: object) -> tuple[str, str]:
    response = await register(identity.client, card)  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    user_id = response.json()["user_id"]
    return user_id, await setup_token(identity.services.sessions, user_id)


async def test_the_link_sets_the_password_once_and_issues_the_auth_id(
    identity: Identity, card: object
) -> None:
    user_id, token = await _pending(identity, card)
    check = await identity.client.post(
        "/api/identity/link-checks", json={"token": token, "purpose": "password_setup"}
    )
    assert check.status_code == 200, check.text
    done = await identity.client.post(SETUPS, json={"token": token, "password": GOOD_PASSWORD})
    assert done.status_code == 201, done.text
    auth_id = done.json()["auth_id"]
    assert normalize_auth_id(auth_id) is not None and len(auth_id) == 11
    issued = await outbox_events(identity.services.sessions, "AuthIdIssued", user_id)
    assert [e["auth_id"] for e in issued] == [auth_id]
    again = await identity.client.post(SETUPS, json={"token": token, "password": GOOD_PASSWORD})
    assert again.status_code == 410 and again.json()["code"] == "link.used"


async def test_after_30_days_the_link_has_expired_and_says_how_to_start_again(
    identity: Identity, card: object
) -> None:
    _, token = await _pending(identity, card)
    identity.clock.advance(timedelta(days=30, minutes=1))
    response = await identity.client.post(SETUPS, json={"token": token, "password": GOOD_PASSWORD})
    assert response.status_code == 410
    problem = response.json()
    assert problem["code"] == "link.expired"
    assert "やり直して" in problem["message_ja"] and "Register again" in problem["message_en"]
    check = await identity.client.post(
        "/api/identity/link-checks", json={"token": token, "purpose": "password_setup"}
    )
    assert check.json()["code"] == "link.expired"


async def test_an_unknown_link_is_refused(identity: Identity) -> None:
    response = await identity.client.post(SETUPS, json={"token": "not-a-token", "password": GOOD_PASSWORD})
    assert response.status_code == 404 and response.json()["code"] == "link.unknown"


async def test_a_weak_password_is_refused_listing_every_broken_rule_and_the_link_still_works(
    identity: Identity, card: object
) -> None:
    _, token = await _pending(identity, card)
    response = await identity.client.post(SETUPS, json={"token": token, "password": "short"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "password.rejected"
    assert {"password.too_short", "password.too_few_character_classes"} <= codes(problem["reasons"])
    assert all(r["message_ja"] and r["message_en"] for r in problem["reasons"])
    common = await identity.client.post(SETUPS, json={"token": token, "password": "password1234"})
    assert "password.common" in codes(common.json()["reasons"])
    done = await identity.client.post(SETUPS, json={"token": token, "password": GOOD_PASSWORD})
    assert done.status_code == 201, done.text


async def test_the_mail_can_be_sent_again_and_only_the_newest_link_works(
    identity: Identity, card: object
) -> None:
    user_id, old = await _pending(identity, card)
    resent = await identity.client.post(f"/api/identity/registrations/{user_id}/setup-link")
    assert resent.status_code == 202, resent.text
    new = await setup_token(identity.services.sessions, user_id)
    assert new != old
    events = await outbox_events(identity.services.sessions, "PasswordSetupRequested", user_id)
    assert len(events) == 2 and events[0]["expires_at"] == events[1]["expires_at"]
    stale = await identity.client.post(SETUPS, json={"token": old, "password": GOOD_PASSWORD})
    assert stale.json()["code"] == "link.used"
    done = await identity.client.post(SETUPS, json={"token": new, "password": GOOD_PASSWORD})
    assert done.status_code == 201
    after = await identity.client.post(f"/api/identity/registrations/{user_id}/setup-link")
    assert after.status_code == 409 and after.json()["code"] == "registration.completed"


async def test_re_sending_is_limited_per_hour_with_a_clear_time_to_try_again(
    identity: Identity, card: object
) -> None:
    user_id, _ = await _pending(identity, card)
    url = f"/api/identity/registrations/{user_id}/setup-link"
    assert (await identity.client.post(url)).status_code == 202
    assert (await identity.client.post(url)).status_code == 202
    limited = await identity.client.post(url)
    assert limited.status_code == 429
    problem = limited.json()
    assert problem["code"] == "setup.resend_limited" and problem["limit_per_hour"] == 3
    retry_at = datetime.fromisoformat(problem["retry_at"])
    assert 3500 <= int(limited.headers["retry-after"]) <= 3601
    assert "Try again after" in problem["message_en"] and "以降" in problem["message_ja"]
    identity.clock.advance(retry_at - identity.clock() + timedelta(seconds=1))
    assert (await identity.client.post(url)).status_code == 202


async def test_re_sending_after_the_30_days_says_registration_must_be_redone(
    identity: Identity, card: object
) -> None:
    user_id, _ = await _pending(identity, card)
    await execute(
        identity.services.sessions,
        "UPDATE user_account SET setup_deadline = now() - interval '1 minute' WHERE id = :id",
        id=user_id,
    )
    response = await identity.client.post(f"/api/identity/registrations/{user_id}/setup-link")
    assert response.status_code == 410 and response.json()["code"] == "registration.expired"
    unknown = await identity.client.post(
        "/api/identity/registrations/00000000-0000-4000-8000-000000000000/setup-link"
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "registration.not_found"
