"""End to end with the card: identity's challenge is signed by the virtual My Number Card on the real pcscd, through
card-gateway's HTTP API, and the registration and a card sign-in succeed (issue 4)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from card_gateway.config import CardGatewaySettings
from card_gateway.main import create_app as create_card_gateway
from card_gateway.virtual_card import VirtualCard, VpcdCardSlot
from shared.testing.jpki import TestPki
from tests.card_gateway.conftest import AUTH_PIN, make_card

# The real pcscd with vpcd and the card slot: card-gateway's own fixtures, re-exported for pytest.
from tests.card_gateway.conftest import insert_card as insert_card
from tests.card_gateway.conftest import pcscd as pcscd
from tests.card_gateway.conftest import vpcd_readers as vpcd_readers
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import GOOD_PASSWORD, challenge, random_email, setup_token

pytestmark = pytest.mark.integration

ORIGIN = "https://ras.example.jp"


async def sign_with_gateway(gateway: httpx.AsyncClient, challenge_b64: str) -> dict[str, str]:
    """Have the card sign a challenge through card-gateway's local API."""
    response = await gateway.post(
        "/card/auth-signature", json={"challenge": challenge_b64, "pin": AUTH_PIN}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def test_a_registration_and_a_card_sign_in_through_card_gateway_and_the_virtual_card_on_pcscd(
    identity: Identity,
    live_pki: TestPki,
    insert_card: Callable[[VirtualCard], VpcdCardSlot],
) -> None:
    card = live_pki.issue_card()
    insert_card(make_card(card))
    gateway_app = create_card_gateway(CardGatewaySettings(allowed_origins=[ORIGIN]))
    transport = httpx.ASGITransport(app=gateway_app)
    async with (
        gateway_app.router.lifespan_context(gateway_app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:17980", timeout=30) as gateway,
    ):
        issued = await challenge(identity.client, "registration")
        signed = await sign_with_gateway(gateway, issued["challenge"])
        assert signed["kind"] == "auth"
        registered = await identity.client.post(
            "/api/identity/registrations",
            json={
                "attempt_id": issued["attempt_id"],
                "challenge_id": issued["challenge_id"],
                "certificate": signed["certificate"],
                "signature": signed["signature"],
                "category": "foreign_national",
                "email": random_email("card"),
                "locale": "ja",
                "agreed_to_terms": True,
            },
        )
        assert registered.status_code == 201, registered.text
        user_id = registered.json()["user_id"]
        token = await setup_token(identity.services.sessions, user_id)
        done = await identity.client.post(
            "/api/identity/password-setups", json={"token": token, "password": GOOD_PASSWORD}
        )
        assert done.status_code == 201, done.text

        issued = await challenge(identity.client, "sign_in")
        signed = await sign_with_gateway(gateway, issued["challenge"])
        session = await identity.client.post(
            "/api/identity/sessions/card",
            json={
                "attempt_id": issued["attempt_id"],
                "challenge_id": issued["challenge_id"],
                "certificate": signed["certificate"],
                "signature": signed["signature"],
            },
        )
        assert session.status_code == 201, session.text
        me = await identity.client.get(
            "/api/identity/me", headers={"Authorization": f"Bearer {session.json()['access_token']}"}
        )
        assert me.json()["user_id"] == user_id
