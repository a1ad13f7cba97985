"""The representation record: what the event carries to applications, and a parent told to register as 法定代理人."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.testing.jpki import TestPki
from tests.identity.integration.conftest import Identity
from tests.identity.integration.support import outbox_events, register, registered_user
from tests.identity.integration.test_representation import child

pytestmark = pytest.mark.integration


async def test_the_representation_event_carries_the_recorded_date_of_birth_and_the_filer_category(
    identity: Identity, live_pki: TestPki
) -> None:
    born = date.today() - timedelta(days=365 * 8)
    parent = await registered_user(
        identity.client,
        identity.app,
        live_pki.issue_card(),
        category="legal_representative",
        representation=child(born),
    )
    (event,) = await outbox_events(identity.services.sessions, "RepresentationRegistered", parent.user_id)
    assert event["applicant_date_of_birth"] == born.isoformat()
    assert event["filer_category"] == "legal_representative"
    assert (event["relationship"], event["basis"]) == ("parent", "parental_authority")


async def test_a_parent_registering_as_a_relative_for_their_minor_child_is_told_to_register_as_legal_representative(
    identity: Identity, live_pki: TestPki
) -> None:
    born = date.today() - timedelta(days=365 * 10)
    refused = await register(
        identity.client,
        live_pki.issue_card(),
        category="relative",
        representation=child(born, relationship="parent", basis="applicant_under_16"),
    )
    assert refused.status_code == 422, refused.text
    (reason,) = [
        r for r in refused.json()["reasons"] if r["code"] == "representation.register_as_legal_representative"
    ]
    assert "法定代理人" in reason["message_ja"] and "legal representative" in reason["message_en"]
    declared = await register(
        identity.client,
        live_pki.issue_card(),
        category="relative",
        representation=child(
            born, relationship="parent", basis="applicant_under_16", without_parental_authority=True
        ),
    )
    assert declared.status_code == 201, declared.text
    as_legal_representative = await register(
        identity.client, live_pki.issue_card(), category="legal_representative", representation=child(born)
    )
    assert as_legal_representative.status_code == 201, as_legal_representative.text
