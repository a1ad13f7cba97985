"""Sign-in protection: the lock counts password changes, hides unknown 認証IDs, trusts addresses only from the
configured proxy; rate limits with Retry-After; reset requests that reveal nothing (docs/adr/0011)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from identity.config import RateLimit
from identity.service_layer import passwords
from shared.testing.jpki import TestPki
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import (
    GOOD_PASSWORD,
    bearer,
    card_answer,
    random_address,
    random_email,
    registered_user,
    registration_body,
    reset_events,
    sign_in,
    unknown_auth_id,
)

pytestmark = pytest.mark.integration

SESSIONS = "/api/identity/sessions"
RESETS = "/api/identity/password-resets"
CHANGE = "/api/identity/me/password"


@contextmanager
def tightened(identity: Identity, **limits: RateLimit) -> Iterator[None]:
    """Run with some rate limits lowered (the session's app otherwise has generous ones)."""
    services = identity.services
    before = services.settings
    services.settings = before.model_copy(
        update={"rate_limits": before.rate_limits.model_copy(update=limits)}
    )
    try:
        yield
    finally:
        services.settings = before


@asynccontextmanager
async def client_from(identity: Identity, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client whose TCP peer address is ``peer`` (not a configured proxy)."""
    transport = httpx.ASGITransport(app=identity.app, client=(peer, 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def xff(address: str) -> dict[str, str]:
    """Return the X-Forwarded-For header naming ``address``."""
    return {"X-Forwarded-For": address}


def assert_rate_limited(response: httpx.Response, scope: str) -> None:
    """Assert a 429 in the shared problem format with Retry-After and ja/en messages."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["code"] == "rate.limited" and body["scope"] == scope
    assert body["type"] == "urn:ras:error:rate.limited" and body["retry_at"] and body["limit"] >= 1
    assert "もう一度お試しください" in body["message_ja"] and "Try again after" in body["message_en"]


def comparable(response: httpx.Response) -> tuple[int, str, str | None, list[str], bool]:
    """Return what a caller sees of a refusal, without its timestamps."""
    body = response.json()
    return (
        response.status_code,
        body.get("code", ""),
        body.get("scope"),
        sorted(body),
        "retry-after" in response.headers,
    )


# ---- 10. wrong current passwords count toward the lock ----


async def test_wrong_current_passwords_on_the_change_route_lock_the_account(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    tokens = (await sign_in(identity.client, user.auth_id, user.password)).json()
    headers = {**bearer(tokens["access_token"]), **xff(random_address())}
    answers = [
        await identity.client.post(
            CHANGE,
            json={"current_password": f"Wrong-password-{i}", "new_password": "Toranomon-Hills-77"},
            headers=headers,
        )
        for i in range(5)
    ]
    assert [a.status_code for a in answers] == [403, 403, 403, 403, 423]
    assert answers[-1].json()["code"] == "signin.locked" and "retry-after" in answers[-1].headers
    assert (await sign_in(identity.client, user.auth_id, user.password)).status_code == 423
    right = await identity.client.post(
        CHANGE,
        json={"current_password": user.password, "new_password": "Toranomon-Hills-77"},
        headers=headers,
    )
    assert right.status_code == 423


# ---- 13. a locked and an unknown 認証ID are indistinguishable ----


async def test_a_locked_account_and_an_unknown_auth_id_answer_alike(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    unknown = unknown_auth_id()
    seen: dict[str, list[tuple[int, str, str | None, list[str], bool]]] = {}
    for auth_id in (user.auth_id, unknown):
        seen[auth_id] = [
            comparable(await sign_in(identity.client, auth_id, f"Wrong-password-{i}")) for i in range(5)
        ]
        # Even the right password of the account, after the lock:
        seen[auth_id].append(comparable(await sign_in(identity.client, auth_id, user.password)))
    assert seen[user.auth_id] == seen[unknown]
    assert [s[0] for s in seen[unknown]] == [401, 401, 401, 401, 423, 423]


# ---- 11. client addresses only from the configured proxy ----


async def test_x_forwarded_for_from_a_peer_that_is_no_proxy_is_ignored(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    peer, victim = random_address(), random_address()
    async with client_from(identity, peer) as outsider:
        for i in range(20):
            # Rotating the header does not dodge the lock; claiming the victim's address does not aim it.
            header = xff(victim if i % 2 else random_address())
            await outsider.post(
                SESSIONS, json={"auth_id": unknown_auth_id(), "password": "Wrong-1"}, headers=header
            )
        blocked = await outsider.post(
            SESSIONS, json={"auth_id": user.auth_id, "password": user.password}, headers=xff(random_address())
        )
    assert blocked.status_code == 429 and blocked.json()["code"] == "signin.address_locked"
    # Through the configured proxy (the session's client is 127.0.0.1, listed as the proxy), the victim is fine.
    assert (await sign_in(identity.client, user.auth_id, user.password, address=victim)).status_code == 201


async def test_behind_the_proxy_the_right_most_entry_it_did_not_add_itself_is_the_client(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    client = random_address()
    for i in range(20):
        chain = f"{random_address()}, {client}" if i % 2 else f"{client}, 127.0.0.1"
        await identity.client.post(
            SESSIONS, json={"auth_id": unknown_auth_id(), "password": "Wrong-1"}, headers=xff(chain)
        )
    blocked = await sign_in(identity.client, user.auth_id, user.password, address=client)
    assert blocked.status_code == 429 and blocked.json()["code"] == "signin.address_locked"
    assert (await sign_in(identity.client, user.auth_id, user.password)).status_code == 201


# ---- 12. rate limits ----


async def test_card_challenges_are_limited_per_address_until_the_window_ends(identity: Identity) -> None:
    peer = random_address()
    with tightened(identity, card_challenge_per_address=RateLimit(limit=2, window_s=600)):
        async with client_from(identity, peer) as client:
            answers = [
                await client.post("/api/identity/card-challenges", json={"purpose": "registration"})
                for _ in range(3)
            ]
            assert [a.status_code for a in answers[:2]] == [201, 201]
            assert_rate_limited(answers[2], "address")
            assert int(answers[2].headers["retry-after"]) <= 601
            async with client_from(identity, random_address()) as other:
                assert (
                    await other.post("/api/identity/card-challenges", json={"purpose": "sign_in"})
                ).status_code == 201
            identity.clock.advance(timedelta(seconds=601))
            again = await client.post("/api/identity/card-challenges", json={"purpose": "registration"})
            assert again.status_code == 201


async def test_registrations_and_setup_link_resends_are_limited_per_address(
    identity: Identity, live_pki: TestPki
) -> None:
    peer = random_address()
    with tightened(
        identity,
        registration_per_address=RateLimit(limit=1, window_s=3600),
        setup_resend_per_address=RateLimit(limit=1, window_s=3600),
    ):
        async with client_from(identity, peer) as client:
            first = await client.post(
                "/api/identity/registrations",
                json=registration_body(await card_answer(identity.client, live_pki.issue_card())),
            )
            assert first.status_code == 201, first.text
            second = await client.post(
                "/api/identity/registrations",
                json=registration_body(await card_answer(identity.client, live_pki.issue_card())),
            )
            assert_rate_limited(second, "address")
            url = f"/api/identity/registrations/{first.json()['user_id']}/setup-link"
            assert (await client.post(url)).status_code == 202
            assert_rate_limited(await client.post(url), "address")


async def test_sign_in_is_limited_per_account_and_per_address(identity: Identity, live_pki: TestPki) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    with tightened(
        identity,
        sign_in_per_account=RateLimit(limit=2, window_s=600),
        sign_in_per_address=RateLimit(limit=2, window_s=600),
    ):
        known = [await sign_in(identity.client, user.auth_id, user.password) for _ in range(3)]
        assert [a.status_code for a in known[:2]] == [201, 201]
        assert_rate_limited(known[2], "account")
        unknown_id = unknown_auth_id()
        unknown = [await sign_in(identity.client, unknown_id, user.password) for _ in range(3)]
        assert [a.status_code for a in unknown[:2]] == [401, 401]
        assert_rate_limited(unknown[2], "account")
        address = random_address()
        from_one = [
            await sign_in(identity.client, unknown_auth_id(), "Wrong-1", address=address) for _ in range(3)
        ]
        assert_rate_limited(from_one[2], "address")


async def test_reset_requests_are_limited_alike_for_known_and_unknown_addresses(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    with tightened(
        identity,
        reset_per_account=RateLimit(limit=2, window_s=3600),
        reset_per_address=RateLimit(limit=3, window_s=3600),
    ):
        seen: list[list[Any]] = []
        for email in (user.email, random_email("nobody")):
            answers = [
                await identity.client.post(RESETS, json={"email": email}, headers=xff(random_address()))
                for _ in range(3)
            ]
            seen.append([comparable(a) if a.status_code != 202 else (202, a.text) for a in answers])
            assert_rate_limited(answers[2], "account")
        assert seen[0] == seen[1]
        address = random_address()
        per_address = [
            await identity.client.post(RESETS, json={"email": random_email()}, headers=xff(address))
            for _ in range(4)
        ]
        assert [a.status_code for a in per_address[:3]] == [202, 202, 202]
        assert_rate_limited(per_address[3], "address")
    assert len(await reset_events(identity.services.sessions, user.user_id)) == 2


# ---- 13. reset requests: the same answer and the same work for known and unknown addresses ----


async def test_a_reset_request_answers_alike_and_does_the_same_work_for_unknown_addresses(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    nobody = random_email("nobody")
    known = await identity.client.post(RESETS, json={"email": user.email})
    unknown = await identity.client.post(RESETS, json={"email": nobody})
    assert (known.status_code, known.text) == (unknown.status_code, unknown.text) == (202, known.text)
    assert known.headers["content-type"] == unknown.headers["content-type"]

    engine = identity.app.state.runtime.engine.sync_engine
    statements: list[str] = []
    me = asyncio.current_task()

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if asyncio.current_task() is me:
            statements.append(statement)

    await passwords.queue_reset(identity.services, email=random_email("warm-up"))  # a pooled connection
    event.listen(engine, "before_cursor_execute", record)
    try:
        await passwords.queue_reset(identity.services, email=user.email)
        for_known = list(statements)
        statements.clear()
        await passwords.queue_reset(identity.services, email=nobody)
        for_unknown = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert for_known == for_unknown and for_known
    assert not any("user_account" in s for s in for_known)
    assert len(await reset_events(identity.services.sessions, user.user_id)) == 2


async def test_no_secret_reaches_the_log(
    identity: Identity, live_pki: TestPki, caplog: pytest.LogCaptureFixture
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card(), password=GOOD_PASSWORD)
    tokens = (await sign_in(identity.client, user.auth_id, user.password)).json()
    await identity.client.post(
        CHANGE,
        json={"current_password": "Wrong-9x", "new_password": "x"},
        headers=bearer(tokens["access_token"]),
    )
    await identity.client.post(
        "/api/identity/sessions/sign-out", json={"refresh_token": tokens["refresh_token"]}
    )
    logged = caplog.text
    for secret in (user.password, tokens["access_token"], tokens["refresh_token"], "Wrong-9x"):
        assert secret not in logged
