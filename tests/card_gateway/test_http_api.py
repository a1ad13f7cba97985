"""The local HTTP API over the in-memory backend: origin allow-list, CORS, problem details and status codes."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from card_gateway.config import CardGatewaySettings
from card_gateway.main import create_app
from card_gateway.virtual_card import CardQuirks, VirtualJpkiCard, VirtualOtherCard
from shared.testing.jpki import TestCard
from tests.card_gateway.conftest import AUTH_PIN, FAKE_READER, SIGN_PIN, make_card
from tests.card_gateway.fakes import FakeReaderBackend
from tests.card_gateway.test_gateway_unit import verify

pytestmark = pytest.mark.unit

WEB = "https://ras.example.go.jp"
BASE = "http://127.0.0.1:17980"
CHALLENGE = bytes(range(48))
PROBLEM_KEYS = {"type", "title", "status", "code", "message_ja", "message_en"}


def settings(**overrides: object) -> CardGatewaySettings:
    options: dict[str, object] = {
        "allowed_origins": [WEB],
        "operation_timeout_s": 2.0,
        "busy_timeout_s": 0.1,
        **overrides,
    }
    return CardGatewaySettings(**options)  # type: ignore[arg-type]


@pytest.fixture
async def app(fake_backend: FakeReaderBackend) -> AsyncIterator[FastAPI]:
    application = create_app(settings(), backend=fake_backend)
    yield application
    application.state.gateway.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers={"Origin": WEB}) as c:
        yield c


def sign_body(pin: str, **extra: object) -> dict[str, object]:
    return {"challenge": base64.b64encode(CHALLENGE).decode(), "pin": pin, **extra}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) >= PROBLEM_KEYS and body["code"] == code and body["status"] == status
    assert body["message_ja"] and body["message_en"]
    return dict(body)


async def test_alive_answers_allowed_origins_with_cors(client: httpx.AsyncClient) -> None:
    response = await client.get("/alive")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == WEB
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    "origin", [None, "https://evil.example", "null", "https://ras.example.go.jp.evil.example"]
)
async def test_refuses_every_other_origin(client: httpx.AsyncClient, origin: str | None) -> None:
    headers = {"Origin": origin} if origin else {}
    client.headers.pop("Origin")
    response = await client.get("/readers", headers=headers)
    assert_problem(response, 403, "origin.not_allowed")
    assert "access-control-allow-origin" not in response.headers


async def test_refuses_a_non_loopback_host_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/readers", headers={"Host": "attacker.example:17980"})
    assert_problem(response, 403, "host.not_allowed")


async def test_answers_preflights_with_private_network_access(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/card/auth-signature",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == WEB
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-private-network"] == "true"


async def test_ready_reports_the_pcsc_service(
    client: httpx.AsyncClient, fake_backend: FakeReaderBackend
) -> None:
    assert (await client.get("/ready")).status_code == 200
    fake_backend.service_down = True
    assert (await client.get("/ready")).status_code == 503


async def test_lists_readers_and_the_card(client: httpx.AsyncClient) -> None:
    readers = (await client.get("/readers")).json()["readers"]
    assert [r["card_present"] for r in readers] == [True, False]
    card = (await client.get("/card")).json()
    assert card["my_number_card"] is True and card["reader"] == FAKE_READER


async def test_reads_the_auth_certificate_and_tries(
    client: httpx.AsyncClient, virtual_card: VirtualJpkiCard
) -> None:
    certificate = (await client.get("/card/auth-certificate")).json()
    assert certificate["subject"].startswith("CN=") and "JPKI" in certificate["issuer"]
    assert certificate["pem"].startswith("-----BEGIN CERTIFICATE-----")
    tries = (await client.get("/card/pin-tries", params={"reader": FAKE_READER})).json()
    assert tries["auth"] == {"tries_left": 3, "max_tries": 3, "blocked": False}
    assert tries["signature"]["tries_left"] == 5


async def test_signs_with_the_auth_key(client: httpx.AsyncClient) -> None:
    response = await client.post("/card/auth-signature", json=sign_body(AUTH_PIN))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["algorithm"] == "RSASSA-PKCS1-v1_5-SHA256"
    verify(base64.b64decode(body["signature"]), base64.b64decode(body["certificate"]), CHALLENGE)


async def test_signs_with_the_signature_key_and_reads_its_certificate(client: httpx.AsyncClient) -> None:
    response = await client.post("/card/signature", json=sign_body(SIGN_PIN))
    assert response.status_code == 200, response.text
    body = response.json()
    verify(base64.b64decode(body["signature"]), base64.b64decode(body["certificate"]), CHALLENGE)
    certificate = await client.post("/card/signature-certificate", json={"pin": SIGN_PIN})
    assert certificate.json()["certificate"] == body["certificate"]


async def test_a_wrong_pin_is_403_with_tries_left_and_never_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post("/card/auth-signature", json=sign_body("9876"))
    body = assert_problem(response, 403, "pin.wrong")
    assert body["tries_left"] == 2 and "9876" not in response.text


async def test_last_try_needs_confirmation_then_a_wrong_pin_blocks(
    client: httpx.AsyncClient, virtual_card: VirtualJpkiCard
) -> None:
    virtual_card.set_tries(auth=1)
    assert_problem(
        await client.post("/card/auth-signature", json=sign_body("9876")),
        428,
        "pin.last_try_confirmation_required",
    )
    response = await client.post("/card/auth-signature", json=sign_body("9876", confirm_last_try=True))
    assert_problem(response, 423, "pin.blocked")
    assert (await client.get("/card/pin-tries")).json()["auth"]["blocked"] is True


async def test_bad_pin_format_and_bad_challenge_are_422(
    client: httpx.AsyncClient, virtual_card: VirtualJpkiCard
) -> None:
    assert_problem(await client.post("/card/auth-signature", json=sign_body("12")), 422, "pin.invalid_format")
    bad = {"challenge": "not base64!", "pin": AUTH_PIN}
    assert_problem(await client.post("/card/auth-signature", json=bad), 422, "challenge.invalid")
    assert_problem(await client.post("/card/auth-signature", json={"pin": AUTH_PIN}), 422, "request.invalid")
    assert virtual_card.tries()["auth"] == 3


async def test_no_card_and_no_reader_are_404(
    client: httpx.AsyncClient, fake_backend: FakeReaderBackend
) -> None:
    assert_problem(await client.get("/card", params={"reader": "Nope"}), 404, "reader.not_found")
    fake_backend.cards[FAKE_READER] = None
    assert_problem(await client.get("/card/pin-tries"), 404, "card.not_present")


async def test_other_cards_are_409(client: httpx.AsyncClient, fake_backend: FakeReaderBackend) -> None:
    fake_backend.cards[FAKE_READER] = VirtualOtherCard()
    assert (await client.get("/card")).json()["my_number_card"] is False
    assert_problem(await client.get("/card/auth-certificate"), 409, "card.not_my_number_card")


async def test_busy_removed_and_timeout(client: httpx.AsyncClient, fake_backend: FakeReaderBackend) -> None:
    fake_backend.busy.add(FAKE_READER)
    assert_problem(await client.get("/card/pin-tries"), 409, "reader.busy")
    fake_backend.busy.clear()
    fake_backend.remove_when = lambda c: c.ins == 0x2A
    assert_problem(await client.post("/card/auth-signature", json=sign_body(AUTH_PIN)), 410, "card.removed")


async def test_a_stuck_card_is_504(fake_backend: FakeReaderBackend) -> None:
    app = create_app(settings(operation_timeout_s=0.2), backend=fake_backend)
    fake_backend.delay_when = (lambda c: c.ins == 0x2A, 0.8)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE, headers={"Origin": WEB}
    ) as c:
        assert_problem(
            await c.post("/card/auth-signature", json=sign_body(AUTH_PIN)), 504, "operation.timeout"
        )
    app.state.gateway.close()


async def test_unknown_tries_are_null_and_no_pin_is_sent(
    client: httpx.AsyncClient, fake_backend: FakeReaderBackend, test_card: TestCard
) -> None:
    card = make_card(test_card, quirks=CardQuirks(tries_query_answers_ok=True))
    card.set_tries(auth=0)
    fake_backend.cards[FAKE_READER] = card
    tries = (await client.get("/card/pin-tries")).json()
    assert tries["auth"] == {"tries_left": None, "max_tries": 3, "blocked": None}
    body = assert_problem(
        await client.post("/card/auth-signature", json=sign_body(AUTH_PIN, confirm_last_try=True)),
        409,
        "pin.tries_unknown",
    )
    assert body["tries_left"] is None and body["pin"] == "auth"
    assert card.tries()["auth"] == 0 and not [c for c in card.commands if c.ins == 0x20 and c.data]


async def test_a_wrong_pin_without_a_counter_is_403_with_null_tries(
    client: httpx.AsyncClient, fake_backend: FakeReaderBackend, test_card: TestCard
) -> None:
    fake_backend.cards[FAKE_READER] = make_card(test_card, quirks=CardQuirks(wrong_pin_without_counter=True))
    body = assert_problem(await client.post("/card/auth-signature", json=sign_body("9876")), 403, "pin.wrong")
    assert body["tries_left"] is None


async def test_the_default_reader_skips_other_cards_and_errors_name_the_readers(
    client: httpx.AsyncClient, fake_backend: FakeReaderBackend, virtual_card: VirtualJpkiCard
) -> None:
    fake_backend.cards = {"Reader A": VirtualOtherCard(), "Reader B": virtual_card}
    assert (await client.get("/card")).json()["reader"] == "Reader B"
    response = await client.post("/card/auth-signature", json=sign_body(AUTH_PIN))
    assert response.status_code == 200 and response.json()["reader"] == "Reader B"
    fake_backend.cards = {"Reader A": VirtualOtherCard(), "Reader B": VirtualOtherCard()}
    body = assert_problem(await client.get("/card/pin-tries"), 409, "card.not_my_number_card")
    assert body["readers"] == ["Reader A", "Reader B"] and "Reader B" in str(body["message_ja"])


async def test_an_unsupported_key_is_409(
    client: httpx.AsyncClient,
    fake_backend: FakeReaderBackend,
    test_card: TestCard,
    rsa1024_card_options: dict[str, object],
) -> None:
    fake_backend.cards[FAKE_READER] = make_card(test_card, **rsa1024_card_options)
    body = assert_problem(
        await client.post("/card/auth-signature", json=sign_body(AUTH_PIN)), 409, "card.unsupported_key"
    )
    assert body["key"] == "RSA 1024-bit"
