"""Registration with the My Number Card: the happy path, its events, and every refusal with its own code."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from identity.adapters.ocsp_simulator import OcspSimulator
from identity.main import create_app
from shared.events import PasswordSetupRequested, UserRegistered
from shared.testing.jpki import TestPki
from tests.identity.integration.conftest import REVOKED_SERIAL, Identity
from tests.identity.integration.support import (
    WEB,
    b64,
    card_answer,
    challenge,
    identity_settings,
    outbox_events,
    random_email,
    register,
    registered_user,
    registration_body,
    token_of,
)
from tests.support.apps import Infra, running
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

REGISTRATIONS = "/api/identity/registrations"


async def test_a_card_holder_registers_and_is_sent_a_set_up_link_through_kafka(
    identity: Identity, live_pki: TestPki, infra: Infra
) -> None:
    card = live_pki.issue_card()
    email = random_email()
    response = await register(identity.client, card, email=email, locale="en")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["category"] == "foreign_national" and body["email"] == email
    user_id = body["user_id"]

    def mine(records: list) -> list[dict]:  # type: ignore[type-arg]
        return [json.loads(r.value) for r in records if r.key == user_id.encode()]

    registered = await read_topic(
        infra.stack.kafka_bootstrap, UserRegistered.topic(), until=lambda rs: bool(mine(rs))
    )
    event = mine(registered)[0]
    assert event["category"] == "foreign_national" and event["email"] == email and event["locale"] == "en"
    setup = await read_topic(
        infra.stack.kafka_bootstrap, PasswordSetupRequested.topic(), until=lambda rs: bool(mine(rs))
    )
    link = mine(setup)[0]
    assert link["setup_url"].startswith(f"{WEB}/password-setup?token=")
    assert link["correlation_id"] == event["correlation_id"]
    lifetime = datetime.fromisoformat(link["expires_at"]) - datetime.fromisoformat(event["occurred_at"])
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)


async def test_the_database_keeps_a_peppered_card_handle_and_the_link_only_as_a_hash(
    identity: Identity, live_pki: TestPki
) -> None:
    card = live_pki.issue_card()
    response = await register(identity.client, card)
    user_id = response.json()["user_id"]
    async with identity.services.sessions() as session:
        account = (
            (await session.execute(text("SELECT * FROM user_account WHERE id = :id"), {"id": user_id}))
            .one()
            ._mapping
        )
        links = (
            await session.execute(
                text("SELECT token_hash FROM link_token WHERE user_id = :id"), {"id": user_id}
            )
        ).all()
    assert account["card_handle"].startswith("auth:v1:") and len(account["card_handle"]) == 72
    assert str(card.serial("auth")) not in account["card_handle"]
    assert set(account.keys()).isdisjoint({"certificate", "my_number", "pin"})
    assert all(len(row.token_hash) == 64 for row in links)


async def test_a_challenge_works_only_once(identity: Identity, live_pki: TestPki) -> None:
    card = live_pki.issue_card()
    answer = await card_answer(identity.client, card)
    first = await identity.client.post(REGISTRATIONS, json=registration_body(answer))
    assert first.status_code == 201, first.text
    again = await identity.client.post(REGISTRATIONS, json=registration_body(answer))
    assert again.status_code == 409
    assert again.json()["code"] == "challenge.replayed"
    assert again.json()["message_ja"] and again.json()["message_en"]


async def test_a_challenge_expires_after_its_short_lifetime(identity: Identity, card: object) -> None:
    answer = await card_answer(identity.client, card)  # type: ignore[arg-type]
    identity.clock.advance(timedelta(minutes=3))
    response = await identity.client.post(REGISTRATIONS, json=registration_body(answer))
    assert response.status_code == 410
    assert response.json()["code"] == "challenge.expired"


async def test_a_challenge_for_sign_in_or_another_attempt_is_unknown_to_registration(
    identity: Identity, live_pki: TestPki
) -> None:
    card = live_pki.issue_card()
    answer = await card_answer(identity.client, card, purpose="sign_in")
    response = await identity.client.post(REGISTRATIONS, json=registration_body(answer))
    assert response.status_code == 422 and response.json()["code"] == "challenge.unknown"
    other = await card_answer(identity.client, card)
    other["attempt_id"] = "someone-elses-attempt"
    response = await identity.client.post(REGISTRATIONS, json=registration_body(other))
    assert response.json()["code"] == "challenge.unknown"


async def test_a_signature_over_other_data_is_refused_and_the_challenge_stays_usable(
    identity: Identity, live_pki: TestPki
) -> None:
    card = live_pki.issue_card()
    issued = await challenge(identity.client)
    forged = {
        "attempt_id": issued["attempt_id"],
        "challenge_id": issued["challenge_id"],
        "certificate": b64(card.auth_cert_der),
        "signature": b64(card.sign("auth", b"some other data entirely")),
    }
    response = await identity.client.post(REGISTRATIONS, json=registration_body(forged))
    assert response.status_code == 422 and response.json()["code"] == "signature.invalid"
    genuine = {**forged, "signature": b64(card.sign("auth", base64.b64decode(issued["challenge"])))}
    response = await identity.client.post(REGISTRATIONS, json=registration_body(genuine))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("make", "code"),
    [
        ("wrong_ca_card", "certificate.unknown_ca"),
        ("wrong_kind_card", "certificate.wrong_kind"),
        ("expired_card", "certificate.expired"),
        ("not_yet_valid_card", "certificate.not_yet_valid"),
    ],
)
async def test_a_certificate_that_does_not_verify_is_refused_with_its_reason(
    identity: Identity, live_pki: TestPki, make: str, code: str
) -> None:
    card = getattr(live_pki, make)()
    response = await register(identity.client, card)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert response.json()["message_ja"] and response.json()["message_en"]


async def test_the_signature_certificate_is_the_wrong_kind_for_registration(
    identity: Identity, live_pki: TestPki
) -> None:
    card = live_pki.issue_card()
    answer = await card_answer(identity.client, card, kind="sign")
    response = await identity.client.post(REGISTRATIONS, json=registration_body(answer))
    assert response.status_code == 422 and response.json()["code"] == "certificate.wrong_kind"


async def test_garbage_instead_of_a_certificate_is_malformed(identity: Identity, card: object) -> None:
    answer = await card_answer(identity.client, card, certificate=b"\x30\x03\x02\x01\x00")  # type: ignore[arg-type]
    response = await identity.client.post(REGISTRATIONS, json=registration_body(answer))
    assert response.status_code == 422 and response.json()["code"] == "certificate.malformed"


async def test_a_revoked_certificate_is_refused_by_the_ocsp_responder(
    identity: Identity, live_pki: TestPki
) -> None:
    card = live_pki.issue_card(auth_serial=REVOKED_SERIAL)
    response = await register(identity.client, card)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "certificate.revoked"


async def test_the_crl_backend_refuses_a_revoked_card_and_accepts_a_good_one(
    infra: Infra, live_pki: TestPki, ocsp: OcspSimulator
) -> None:
    from identity.config import RevocationSettings

    settings = identity_settings(
        infra,
        live_pki,
        ocsp.ocsp_url,
        revocation=RevocationSettings(backend="crl", crl={"auth-1": ocsp.crl_url("auth-2023")}),
    )
    app = create_app(settings)
    async with running(app) as client:
        revoked = await register(client, live_pki.issue_card(auth_serial=REVOKED_SERIAL))
        good = await register(client, live_pki.issue_card())
    assert revoked.json()["code"] == "certificate.revoked"
    assert good.status_code == 201, good.text


async def test_an_unreachable_responder_means_revocation_unknown_and_a_later_retry(
    infra: Infra, live_pki: TestPki
) -> None:
    app = create_app(identity_settings(infra, live_pki, "http://127.0.0.1:9/ocsp"))
    async with running(app) as client:
        response = await register(client, live_pki.issue_card())
    assert response.status_code == 503
    assert response.json()["code"] == "certificate.revocation_unknown"
    assert response.headers["retry-after"] == "60"


async def test_the_same_card_cannot_register_twice_in_one_category_but_may_in_another(
    identity: Identity, live_pki: TestPki
) -> None:
    card = live_pki.issue_card()
    user = await registered_user(identity.client, identity.app, card)
    again = await register(identity.client, card)
    assert again.status_code == 409 and again.json()["code"] == "registration.duplicate"
    as_relative = await register(
        identity.client,
        card,
        category="relative",
        representation={
            "name": "NGUYEN VAN BINH",
            "date_of_birth": "2019-05-05",
            "without_parental_authority": True,
            "nationality": "VNM",
            "relationship": "parent",
            "basis": "applicant_under_16",
        },
    )
    assert as_relative.status_code == 201, as_relative.text
    assert as_relative.json()["user_id"] != user.user_id


async def test_a_pending_registration_restarts_with_a_fresh_card_signature_so_a_mistyped_address_is_corrected(
    identity: Identity, live_pki: TestPki
) -> None:
    card = live_pki.issue_card()
    first = (await register(identity.client, card, email="taro@exmaple.jp")).json()
    right = random_email()
    again = await register(identity.client, card, email=right)
    assert again.status_code == 201, again.text
    assert again.json()["user_id"] != first["user_id"] and again.json()["email"] == right
    async with identity.services.sessions() as session:
        left = await session.execute(
            text("SELECT count(*) FROM user_account WHERE id = :id"), {"id": first["user_id"]}
        )
    assert left.scalar_one() == 0
    links = await outbox_events(identity.services.sessions, "PasswordSetupRequested", again.json()["user_id"])
    assert [link["email"] for link in links] == [right]
    old_link = (await outbox_events(identity.services.sessions, "PasswordSetupRequested", first["user_id"]))[
        0
    ]
    dead = await identity.client.post(
        "/api/identity/password-setups", json={"token": token_of(old_link["setup_url"]), "password": "x" * 20}
    )
    assert dead.status_code in (404, 410), dead.text


async def test_registration_needs_agreement_to_the_terms(identity: Identity, card: object) -> None:
    response = await register(identity.client, card, agreed_to_terms=False)  # type: ignore[arg-type]
    assert response.status_code == 422 and response.json()["code"] == "terms.not_agreed"


async def test_nobody_registers_as_an_officer_or_gives_themself_a_role(
    identity: Identity, card: object
) -> None:
    as_officer = await register(identity.client, card, category="officer")  # type: ignore[arg-type]
    assert as_officer.status_code == 422 and as_officer.json()["code"] == "request.invalid"
    with_roles = await register(identity.client, card, roles=["officer"], bureau="tokyo")  # type: ignore[arg-type]
    assert with_roles.status_code == 422 and with_roles.json()["code"] == "request.invalid"


async def test_a_legal_representative_must_name_the_applicant_and_every_broken_rule_is_listed(
    identity: Identity, live_pki: TestPki
) -> None:
    missing = await register(identity.client, live_pki.issue_card(), category="legal_representative")
    assert missing.status_code == 422
    assert missing.json()["code"] == "representation.rejected"
    assert [r["code"] for r in missing.json()["reasons"]] == ["representation.required"]
    wrong = await register(
        identity.client,
        live_pki.issue_card(),
        category="relative",
        representation={
            "name": "",
            "date_of_birth": "1990-01-01",
            "nationality": "V1N",
            "relationship": "guardian",
            "basis": "applicant_under_16",
        },
    )
    found = {r["code"] for r in wrong.json()["reasons"]}
    assert {
        "representation.name_required",
        "representation.nationality_invalid",
        "representation.relationship_not_allowed",
        "representation.applicant_not_under_16",
    } <= found
