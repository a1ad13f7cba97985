"""Helpers of identity's integration tests: settings for the app under test, card responses, registered users."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.config import IdentitySettings, JpkiSettings, RevocationSettings
from shared.messaging.tables import outbox_message
from shared.testing.jpki import Kind, TestCard, TestPki
from tests.support.apps import Infra

PEPPER = "identity-test-pepper-0123456789"
WEB = "https://ras.example.jp"
GOOD_PASSWORD = "Kasumigaseki-2026!"


class FakeClock:
    """The real time moved by an offset, so a test can jump 31 days ahead."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.offset += delta


def pem_of(pki: TestPki, kind: Kind) -> list[str]:
    """Return the PEM certificates of every generation of one CA kind."""
    from cryptography.hazmat.primitives import serialization

    return [
        ca.certificate.public_bytes(serialization.Encoding.PEM).decode()
        for ca in pki.trusted_cas()
        if ca.kind == kind
    ]


def identity_settings(infra: Infra, pki: TestPki, ocsp_url: str, **overrides: Any) -> IdentitySettings:
    """Return settings for the identity app under test, trusting the test PKI and asking the OCSP simulator."""
    values: dict[str, Any] = {
        **infra.common("identity"),
        "token_private_key_pem": infra.private_key,
        "handle_pepper": PEPPER,
        "jpki": JpkiSettings(auth_ca_pems=pem_of(pki, "auth"), sign_ca_pems=pem_of(pki, "sign")),
        "revocation": RevocationSettings(backend="ocsp", ocsp_url=ocsp_url),
        "web_base_url": WEB,
        "trusted_proxies": ["127.0.0.1"],
        **overrides,
    }
    return IdentitySettings(**values)


def b64(data: bytes) -> str:
    """Encode bytes as standard base64."""
    return base64.b64encode(data).decode()


def random_email(prefix: str = "user") -> str:
    """Return a unique address (the database is shared by the whole session)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.jp"


def random_address() -> str:
    """Return a random client address from TEST-NET-2 (so lockouts of one test never touch another)."""
    return f"198.51.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


async def challenge(client: httpx.AsyncClient, purpose: str = "registration") -> dict[str, Any]:
    """Ask for a card challenge."""
    response = await client.post("/api/identity/card-challenges", json={"purpose": purpose})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def card_answer(
    client: httpx.AsyncClient,
    card: TestCard,
    *,
    purpose: str = "registration",
    kind: Kind = "auth",
    certificate: bytes | None = None,
) -> dict[str, Any]:
    """Return the card's answer to a fresh challenge: attempt, challenge id, certificate and signature."""
    issued = await challenge(client, purpose)
    signature = card.sign(kind, base64.b64decode(issued["challenge"]))
    return {
        "attempt_id": issued["attempt_id"],
        "challenge_id": issued["challenge_id"],
        "certificate": b64(certificate if certificate is not None else card.cert_der(kind)),
        "signature": b64(signature),
    }


def registration_body(answer: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Return a registration request: a foreign national in Japanese unless ``fields`` say otherwise."""
    return {
        **answer,
        "category": "foreign_national",
        "email": random_email(),
        "locale": "ja",
        "agreed_to_terms": True,
        **fields,
    }


async def outbox_events(
    sessions: async_sessionmaker[AsyncSession], event_type: str, user_id: uuid.UUID | str
) -> list[dict[str, Any]]:
    """Return the payloads of an account's events of one type, oldest first (read from the outbox)."""
    async with sessions() as session:
        rows = await session.execute(
            select(outbox_message.c.payload)
            .where(outbox_message.c.event_type == event_type, outbox_message.c.key == str(user_id))
            .order_by(outbox_message.c.id)
        )
        return [dict(r.payload) for r in rows.all()]


def token_of(url: str) -> str:
    """Return the token carried in an e-mailed link's fragment."""
    return url.split("?token=", 1)[1]


async def setup_token(sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID | str) -> str:
    """Return the token of the newest set-up link of an account."""
    events = await outbox_events(sessions, "PasswordSetupRequested", user_id)
    assert events, "no set-up link was published"
    return token_of(events[-1]["setup_url"])


async def execute(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> None:
    """Run one statement in its own transaction (to age rows in a test)."""
    async with sessions() as session, session.begin():
        await session.execute(text(sql), params)


@dataclass
class User:
    """A registered account with its password set."""

    user_id: str
    email: str
    auth_id: str
    password: str
    card: TestCard
    category: str = "foreign_national"
    extra: dict[str, Any] = field(default_factory=dict)


async def register(client: httpx.AsyncClient, card: TestCard, **fields: Any) -> httpx.Response:
    """Register a card with a fresh challenge."""
    answer = await card_answer(client, card)
    return await client.post("/api/identity/registrations", json=registration_body(answer, **fields))


async def registered_user(
    client: httpx.AsyncClient,
    app: FastAPI,
    card: TestCard,
    *,
    password: str = GOOD_PASSWORD,
    **fields: Any,
) -> User:
    """Register a card and set the password; return the account."""
    response = await register(client, card, **fields)
    assert response.status_code == 201, response.text
    body = response.json()
    token = await setup_token(app.state.identity.sessions, body["user_id"])
    done = await client.post("/api/identity/password-setups", json={"token": token, "password": password})
    assert done.status_code == 201, done.text
    return User(
        user_id=body["user_id"],
        email=body["email"],
        auth_id=done.json()["auth_id"],
        password=password,
        card=card,
        category=body["category"],
        extra=body,
    )


async def sign_in(
    client: httpx.AsyncClient, auth_id: str, password: str, *, address: str | None = None
) -> httpx.Response:
    """Sign in with 認証ID and password, from a random client address unless one is given."""
    return await client.post(
        "/api/identity/sessions",
        json={"auth_id": auth_id, "password": password},
        headers={"X-Forwarded-For": address or random_address()},
    )


def bearer(access_token: str) -> dict[str, str]:
    """Return the Authorization header for an access token."""
    return {"Authorization": f"Bearer {access_token}"}


def codes(reasons: Iterable[dict[str, Any]]) -> set[str]:
    """Return the codes of a problem's listed reasons."""
    return {r["code"] for r in reasons}
