"""Sign-in with 認証ID and password or with the card, tokens, rotation, sign-out, lockout and password expiry."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from shared.auth import TokenVerifier
from shared.testing.jpki import TestPki
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import (
    bearer,
    card_answer,
    execute,
    random_address,
    registered_user,
    sign_in,
    unknown_auth_id,
)
from tests.support.apps import Infra

pytestmark = pytest.mark.integration

REFRESH = "/api/identity/sessions/refresh"


async def test_signing_in_returns_a_short_lived_signed_token_with_roles_and_a_refresh_token(
    identity: Identity, live_pki: TestPki, infra: Infra
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    response = await sign_in(identity.client, user.auth_id.lower().replace("-", ""), user.password)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["refresh_token"]
    principal = TokenVerifier(infra.public_key, issuer="ras-identity", audience="ras").verify(
        body["access_token"]
    )
    assert principal.user_id == uuid.UUID(user.user_id)
    assert principal.roles == frozenset({"applicant"})
    assert principal.category == "foreign_national" and principal.acts_for == frozenset()
    me = await identity.client.get("/api/identity/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["auth_id"] == user.auth_id


async def test_a_wrong_password_or_unknown_auth_id_gives_the_same_refusal(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    wrong = await sign_in(identity.client, user.auth_id, "Wrong-password-123")
    unknown = await sign_in(identity.client, unknown_auth_id(), user.password)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "signin.invalid_credentials"


async def test_five_failures_lock_the_account_and_say_until_when(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    answers = [await sign_in(identity.client, user.auth_id, f"Wrong-password-{i}") for i in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 423]
    locked = answers[-1].json()
    assert locked["code"] == "signin.locked" and locked["scope"] == "account"
    until = datetime.fromisoformat(locked["locked_until"])
    assert "ロックされています" in locked["message_ja"] and "locked until" in locked["message_en"]
    right = await sign_in(identity.client, user.auth_id, user.password)
    assert right.status_code == 423 and 1700 <= int(right.headers["retry-after"]) <= 1801
    identity.clock.advance(until - identity.clock())
    assert (await sign_in(identity.client, user.auth_id, user.password)).status_code == 201


async def test_many_failures_from_one_address_block_that_address_only(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    address = random_address()
    for _ in range(20):
        await sign_in(identity.client, unknown_auth_id(), "Wrong-password-1", address=address)
    blocked = await sign_in(identity.client, user.auth_id, user.password, address=address)
    assert blocked.status_code == 429 and blocked.json()["code"] == "signin.address_locked"
    assert int(blocked.headers["retry-after"]) > 0
    elsewhere = await sign_in(identity.client, user.auth_id, user.password)
    assert elsewhere.status_code == 201


async def test_the_refresh_token_rotates_and_a_reused_one_ends_the_sign_in(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    first = (await sign_in(identity.client, user.auth_id, user.password)).json()
    second = await identity.client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    reused = await identity.client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401 and reused.json()["code"] == "token.refresh_reused"
    after = await identity.client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401 and after.json()["code"] == "token.refresh_invalid"


async def test_signing_out_revokes_the_refresh_token(identity: Identity, live_pki: TestPki) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    tokens = (await sign_in(identity.client, user.auth_id, user.password)).json()
    out = await identity.client.post(
        "/api/identity/sessions/sign-out", json={"refresh_token": tokens["refresh_token"]}
    )
    assert out.status_code == 204
    refreshed = await identity.client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401 and refreshed.json()["code"] == "token.refresh_invalid"


async def test_a_password_older_than_a_year_no_longer_signs_in(identity: Identity, live_pki: TestPki) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    await execute(
        identity.services.sessions,
        "UPDATE user_account SET password_changed_at = now() - interval '367 days' WHERE id = :id",
        id=user.user_id,
    )
    response = await sign_in(identity.client, user.auth_id, user.password)
    assert response.status_code == 403 and response.json()["code"] == "signin.password_expired"
    assert "再設定" in response.json()["message_ja"]


async def test_the_card_signs_in_the_account_it_registered(identity: Identity, live_pki: TestPki) -> None:
    card = live_pki.issue_card()
    user = await registered_user(identity.client, identity.app, card)
    answer = await card_answer(identity.client, card, purpose="sign_in")
    response = await identity.client.post("/api/identity/sessions/card", json=answer)
    assert response.status_code == 201, response.text
    me = await identity.client.get("/api/identity/me", headers=bearer(response.json()["access_token"]))
    assert me.json()["user_id"] == user.user_id
    replay = await identity.client.post("/api/identity/sessions/card", json=answer)
    assert replay.json()["code"] == "challenge.replayed"


async def test_card_sign_in_needs_a_registered_card_with_its_password_set(
    identity: Identity, live_pki: TestPki
) -> None:
    stranger = live_pki.issue_card()
    answer = await card_answer(identity.client, stranger, purpose="sign_in")
    response = await identity.client.post("/api/identity/sessions/card", json=answer)
    assert response.status_code == 401 and response.json()["code"] == "signin.card_not_registered"
    from tests.identity.integration.support import register

    await register(identity.client, stranger)
    answer = await card_answer(identity.client, stranger, purpose="sign_in")
    pending = await identity.client.post("/api/identity/sessions/card", json=answer)
    assert pending.status_code == 403 and pending.json()["code"] == "signin.setup_incomplete"


async def test_a_card_registered_in_two_categories_must_name_the_category(
    identity: Identity, live_pki: TestPki
) -> None:
    card = live_pki.issue_card()
    await registered_user(identity.client, identity.app, card)
    relative = await registered_user(
        identity.client,
        identity.app,
        card,
        category="relative",
        representation={
            "name": "TRAN THI MAI",
            "date_of_birth": "1950-02-02",
            "nationality": "VNM",
            "relationship": "child",
            "basis": "illness",
        },
    )
    answer = await card_answer(identity.client, card, purpose="sign_in")
    ambiguous = await identity.client.post("/api/identity/sessions/card", json=answer)
    assert ambiguous.status_code == 409 and ambiguous.json()["code"] == "signin.category_required"
    assert sorted(ambiguous.json()["categories"]) == ["foreign_national", "relative"]
    answer = await card_answer(identity.client, card, purpose="sign_in")
    chosen = await identity.client.post(
        "/api/identity/sessions/card", json={**answer, "category": "relative"}
    )
    me = await identity.client.get("/api/identity/me", headers=bearer(chosen.json()["access_token"]))
    assert me.json()["user_id"] == relative.user_id


async def test_a_request_without_a_valid_token_is_refused(identity: Identity) -> None:
    missing = await identity.client.get("/api/identity/me")
    assert missing.status_code == 401 and missing.json()["code"] == "auth.required"
    forged = await identity.client.get("/api/identity/me", headers=bearer("e30.e30.c2ln"))
    assert forged.status_code == 401 and forged.json()["code"] == "auth.invalid_token"
