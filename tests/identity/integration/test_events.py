"""Every identity event reaches its topic through the outbox, keyed by the account and without secrets in clear."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.events import AuthIdIssued, PasswordResetRequested, RepresentationRegistered
from shared.testing.jpki import TestPki
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import registered_user
from tests.support.apps import Infra
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration


async def first_for(infra: Infra, topic: str, user_id: str) -> dict[str, Any]:
    """Read a topic until an event of the account arrives; return it."""
    key = user_id.encode()
    records = await read_topic(
        infra.stack.kafka_bootstrap, topic, until=lambda rs: any(r.key == key for r in rs)
    )
    event: dict[str, Any] = json.loads(next(r.value for r in records if r.key == key))
    return event


async def test_auth_id_password_reset_and_representation_events_are_published(
    identity: Identity, live_pki: TestPki, infra: Infra
) -> None:
    parent = await registered_user(
        identity.client,
        identity.app,
        live_pki.issue_card(),
        category="legal_representative",
        locale="en",
        representation={
            "name": "PHAM VAN AN",
            "date_of_birth": "2017-07-07",
            "nationality": "VNM",
            "relationship": "guardian",
            "basis": "guardianship",
        },
    )
    await identity.client.post("/api/identity/password-resets", json={"email": parent.email})

    issued = await first_for(infra, AuthIdIssued.topic(), parent.user_id)
    assert (
        issued["auth_id"] == parent.auth_id and issued["locale"] == "en" and issued["email"] == parent.email
    )
    reset = await first_for(infra, PasswordResetRequested.topic(), parent.user_id)
    assert reset["reset_url"].startswith("https://ras.example.jp/password-reset?token=")
    represented = await first_for(infra, RepresentationRegistered.topic(), parent.user_id)
    assert represented["applicant_id"] == parent.extra["applicant_id"]
    assert represented["basis"] == "guardianship" and represented["relationship"] == "guardian"
    for event in (issued, reset, represented):
        assert parent.password not in json.dumps(event)
