"""Representation: legal representatives and relatives record applicants; tokens list whom they may act for."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from shared.auth import TokenVerifier
from shared.testing.jpki import TestPki
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import bearer, outbox_events, registered_user, sign_in
from tests.support.apps import Infra

pytestmark = pytest.mark.integration

REPRESENTATIONS = "/api/identity/me/representations"


def child(born: date, **fields: str | bool) -> dict[str, str | bool]:
    """Return an applicant record for a child born on ``born``."""
    return {
        "name": "LE VAN NAM",
        "date_of_birth": born.isoformat(),
        "nationality": "VNM",
        "residence_card_number": f"AB{uuid.uuid4().int % 10**8:08d}CD",
        "relationship": "parent",
        "basis": "parental_authority",
        **fields,
    }


def acts_for(infra: Infra, access_token: str) -> frozenset[uuid.UUID]:
    """Return the token's acts_for claim."""
    return (
        TokenVerifier(infra.public_key, issuer="ras-identity", audience="ras").verify(access_token).acts_for
    )


async def test_a_legal_representative_acts_for_the_child_recorded_at_registration(
    identity: Identity, live_pki: TestPki, infra: Infra
) -> None:
    parent = await registered_user(
        identity.client,
        identity.app,
        live_pki.issue_card(),
        category="legal_representative",
        representation=child(date.today() - timedelta(days=365 * 8)),
    )
    applicant_id = uuid.UUID(parent.extra["applicant_id"])
    events = await outbox_events(identity.services.sessions, "RepresentationRegistered", parent.user_id)
    assert [e["applicant_id"] for e in events] == [str(applicant_id)]
    assert events[0]["basis"] == "parental_authority" and events[0]["relationship"] == "parent"
    tokens = (await sign_in(identity.client, parent.auth_id, parent.password)).json()
    assert acts_for(infra, tokens["access_token"]) == {applicant_id}
    me = (await identity.client.get("/api/identity/me", headers=bearer(tokens["access_token"]))).json()
    assert me["category"] == "legal_representative" and me["roles"] == ["applicant"]
    assert [r["applicant_id"] for r in me["representations"]] == [str(applicant_id)]


async def test_a_second_applicant_is_added_with_a_stable_id_and_appears_in_the_next_token(
    identity: Identity, live_pki: TestPki, infra: Infra
) -> None:
    parent = await registered_user(
        identity.client,
        identity.app,
        live_pki.issue_card(),
        category="legal_representative",
        representation=child(date.today() - timedelta(days=365 * 8)),
    )
    tokens = (await sign_in(identity.client, parent.auth_id, parent.password)).json()
    sibling = child(date.today() - timedelta(days=365 * 3), name="LE THI HOA")
    added = await identity.client.post(REPRESENTATIONS, json=sibling, headers=bearer(tokens["access_token"]))
    assert added.status_code == 201, added.text
    applicant_id = uuid.UUID(added.json()["applicant_id"])
    again = await identity.client.post(REPRESENTATIONS, json=sibling, headers=bearer(tokens["access_token"]))
    assert again.status_code == 409 and again.json()["applicant_id"] == str(applicant_id)
    refreshed = await identity.client.post(
        "/api/identity/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert applicant_id in acts_for(infra, refreshed.json()["access_token"])
    listed = await identity.client.get(REPRESENTATIONS, headers=bearer(refreshed.json()["access_token"]))
    assert len(listed.json()) == 2


async def test_a_relative_acts_for_a_child_only_until_the_16th_birthday(
    identity: Identity, live_pki: TestPki, infra: Infra
) -> None:
    today = identity.clock().date()
    born = today.replace(year=today.year - 16) + timedelta(days=2)
    relative = await registered_user(
        identity.client,
        identity.app,
        live_pki.issue_card(),
        category="relative",
        representation=child(
            born, relationship="parent", basis="applicant_under_16", without_parental_authority=True
        ),
    )
    tokens = (await sign_in(identity.client, relative.auth_id, relative.password)).json()
    assert acts_for(infra, tokens["access_token"]) == {uuid.UUID(relative.extra["applicant_id"])}
    identity.clock.advance(timedelta(days=3))
    later = await identity.client.post(
        "/api/identity/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert later.status_code == 200
    assert acts_for(infra, later.json()["access_token"]) == frozenset()
    listed = await identity.client.get(REPRESENTATIONS, headers=bearer(later.json()["access_token"]))
    assert listed.json()[0]["acting_now"] is False


async def test_a_foreign_national_cannot_record_someone_to_act_for(
    identity: Identity, live_pki: TestPki
) -> None:
    user = await registered_user(identity.client, identity.app, live_pki.issue_card())
    tokens = (await sign_in(identity.client, user.auth_id, user.password)).json()
    response = await identity.client.post(
        REPRESENTATIONS, json=child(date(2018, 1, 1)), headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 403 and response.json()["code"] == "representation.not_allowed"


async def test_a_relative_cannot_claim_parental_authority(identity: Identity, live_pki: TestPki) -> None:
    relative = await registered_user(
        identity.client,
        identity.app,
        live_pki.issue_card(),
        category="relative",
        representation=child(date(1950, 1, 1), relationship="child", basis="illness"),
    )
    tokens = (await sign_in(identity.client, relative.auth_id, relative.password)).json()
    response = await identity.client.post(
        REPRESENTATIONS, json=child(date(2018, 1, 1)), headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 422
    assert "representation.basis_not_allowed" in {r["code"] for r in response.json()["reasons"]}
